using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;

namespace Postern.Client.Tests;

/// <summary>The parts of the library that do not depend on which backend it talks to: DI, other pagination styles, other origins.</summary>
[Collection(BackendsGroup.Name)]
public sealed class LibraryShapeTests(Backends backends)
{
    [Fact]
    public async Task SessionsFromDependencyInjectionShareConnectionsButNotCookies()
    {
        var services = new ServiceCollection();
        services.AddPosternClient(options => options.BaseAddress = backends.Postern.BaseAddress);
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IPosternSessionFactory>();

        using var alice = factory.CreateSession();
        using var bob = factory.CreateSession();
        await alice.LoginAsync("alice", "alice-password");
        await bob.LoginAsync("bob", "bob-password");
        Assert.Equal("alice", (await alice.WhoAmIAsync()).Username);
        Assert.Equal("bob", (await bob.WhoAmIAsync()).Username);

        // Disposing one session leaves the pooled handler usable by the others.
        alice.Dispose();
        Assert.Equal("bob", (await bob.WhoAmIAsync()).Username);
        using var carol = factory.CreateSession();
        await Assert.ThrowsAsync<NotAuthenticatedException>(() => carol.WhoAmIAsync());
    }

    [Fact]
    public async Task LimitOffsetPagesAndLinkHeadersAreFollowedToo()
    {
        await using var other = await PagedListServer.StartAsync();
        using var session = new PosternSession(other.BaseAddress);
        var limitOffset = new List<int>();
        await foreach (var item in session.PaginateAsync<int>("/limit-offset/?limit=4"))
            limitOffset.Add(item);
        Assert.Equal(Enumerable.Range(0, 10), limitOffset);

        var linked = new List<int>();
        await foreach (var item in session.PaginateAsync<int>("/link-header/?page=1"))
            linked.Add(item);
        Assert.Equal(Enumerable.Range(0, 10), linked);
    }

    [Fact]
    public async Task CredentialsNeverGoToAnotherOrigin()
    {
        await using var other = await PagedListServer.StartAsync();
        using var session = new PosternSession(backends.Postern.BaseAddress);
        await session.LoginAsync("alice", "alice-password");

        // Followed without cookies, token or Referer...
        using var response = await session.SendRawAsync(HttpMethod.Post, new Uri(other.BaseAddress, "/echo").ToString(),
            new StringContent("{}", Encoding.UTF8, "application/json"));
        var echoed = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(CookieNames.Session, echoed, StringComparison.Ordinal);
        Assert.DoesNotContain(HeaderNames.CsrfToken, echoed, StringComparison.OrdinalIgnoreCase);

        // ...or refused outright.
        using var strict = new PosternSession(backends.Postern.BaseAddress,
            new PosternClientOptions { CrossOrigin = CrossOriginPolicy.Refuse });
        await strict.LoginAsync("alice", "alice-password");
        await Assert.ThrowsAsync<CrossOriginException>(() => strict.GetJsonAsync(new Uri(other.BaseAddress, "/echo").ToString()));
    }

    [Fact]
    public async Task ARefusalFromAnotherOriginIsNotAnExpiredSession()
    {
        await using var other = await PagedListServer.StartAsync();
        var asked = 0;
        using var session = new PosternSession(backends.Postern.BaseAddress, new PosternClientOptions
        {
            Credentials = (_, _) => { asked++; return ValueTask.FromResult<(string, string)?>(("alice", "alice-password")); },
        });
        await session.LoginAsync("alice", "alice-password");

        // No session cookie went there, so its refusal means "not logged in there": logging in again here would not help.
        await Assert.ThrowsAsync<NotAuthenticatedException>(() => session.GetJsonAsync(new Uri(other.BaseAddress, "/refuses/").ToString()));
        Assert.Equal(0, asked);
        Assert.Equal("alice", (await session.WhoAmIAsync()).Username);
    }

    [Fact]
    public async Task ACookieIsSentUntilItExpires()
    {
        await using var server = await PagedListServer.StartAsync();
        using var session = new PosternSession(server.BaseAddress);
        await SetCookieAsync(session, "brief=1; Max-Age=1; Path=/");
        Assert.Contains("brief=1", await SentCookiesAsync(session, "/echo"));

        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.DoesNotContain("brief=1", await SentCookiesAsync(session, "/echo"));
    }

    [Fact]
    public async Task ACookieForOnePathGoesThereOnly()
    {
        await using var server = await PagedListServer.StartAsync();
        using var session = new PosternSession(server.BaseAddress);
        await SetCookieAsync(session, "site=1; Path=/");
        await SetCookieAsync(session, "narrow=1; Path=/sub");

        Assert.Equal("site=1", await SentCookiesAsync(session, "/echo"));
        Assert.Equal("narrow=1; site=1", await SentCookiesAsync(session, "/sub/echo"));
        Assert.Equal("site=1", await SentCookiesAsync(session, "/echo"));
    }

    [Fact]
    public async Task ACookieReplacedByTheServerOrThroughCookiesIsSentFromTheNextRequestOn()
    {
        await using var server = await PagedListServer.StartAsync();
        using var session = new PosternSession(server.BaseAddress);
        await SetCookieAsync(session, "flavour=a; Path=/");
        Assert.Equal("flavour=a", await SentCookiesAsync(session, "/echo"));
        await SetCookieAsync(session, "flavour=b; Path=/");
        Assert.Equal("flavour=b", await SentCookiesAsync(session, "/echo"));

        // Once the jar is in the caller's hands, whatever it does to it later goes out too.
        var jar = session.Cookies;
        Assert.Equal("flavour=b", await SentCookiesAsync(session, "/echo"));
        jar.Add(new System.Net.Cookie("flavour", "c", "/", server.BaseAddress.Host));
        Assert.Equal("flavour=c", await SentCookiesAsync(session, "/echo"));
        foreach (System.Net.Cookie cookie in jar.GetCookies(server.BaseAddress))
            cookie.Value = "d";
        Assert.Equal("flavour=d", await SentCookiesAsync(session, "/echo"));
    }

    /// <summary>Has the test server answer with <c>Set-Cookie: <paramref name="setCookie"/></c>.</summary>
    private static async Task SetCookieAsync(PosternSession session, string setCookie) =>
        await session.GetJsonAsync("/cookies/?set=" + Uri.EscapeDataString(setCookie));

    private static async Task<string> SentCookiesAsync(PosternSession session, string path) =>
        (await session.GetJsonAsync(path)).TryGetProperty("Cookie", out var cookie) ? cookie.GetString()! : "";

    [Fact]
    public async Task AClosedPortIsATransportError()
    {
        using var session = new PosternSession(new Uri($"http://127.0.0.1:{Testing.DjangoPeer.FreePort()}/"));
        await Assert.ThrowsAsync<TransportException>(() => session.LoginAsync("alice", "alice-password"));
    }
}

/// <summary>
/// A small real Kestrel server with lists paged the other ways DRF and others page them, an echo of request headers,
/// cookies set as asked, and DRF's refusal of a visitor.
/// </summary>
internal sealed class PagedListServer(WebApplication app, Uri baseAddress) : IAsyncDisposable
{
    public Uri BaseAddress { get; } = baseAddress;

    public static async Task<PagedListServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        const int total = 10;
        app.MapGet("/limit-offset/", (HttpRequest request, int limit, int? offset) =>
        {
            var start = offset ?? 0;
            var next = start + limit < total ? $"http://{request.Host}/limit-offset/?limit={limit}&offset={start + limit}" : null;
            return Results.Json(new
            {
                count = total,
                next,
                previous = (string?)null,
                results = Enumerable.Range(start, Math.Min(limit, total - start)),
            });
        });
        app.MapGet("/link-header/", (HttpContext context, int page) =>
        {
            if (page < 4)
                context.Response.Headers.Link = $"<http://{context.Request.Host}/link-header/?page={page + 1}>; rel=\"next\"";
            return Results.Json(Enumerable.Range((page - 1) * 3, page < 4 ? 3 : 1));
        });
        app.MapGet("/refuses/", () => Results.Json(
            new { detail = "Authentication credentials were not provided." }, statusCode: StatusCodes.Status403Forbidden));
        app.Map("/echo", (HttpRequest request) => Results.Json(request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString())));
        app.Map("/sub/echo", (HttpRequest request) => Results.Json(request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString())));
        app.MapGet("/cookies/", (HttpResponse response, string set) =>
        {
            response.Headers.SetCookie = set;
            return Results.Json(new { set });
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new PagedListServer(app, new Uri(address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
