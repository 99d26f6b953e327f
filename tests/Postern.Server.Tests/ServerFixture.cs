using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>One real server per test class, seeded like the Django peer.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public PosternTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await PosternTestServer.StartAsync();
        await Server.SeedLikeDjangoPeerAsync(extraUsers: 3);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>A visitor with a browser-like cookie jar talking to one server.</summary>
public sealed class Visitor(HttpClient client, CookieJar? jar = null)
{
    public CookieJar Jar { get; } = jar ?? new();

    /// <summary>The same visitor (the same cookie jar) talking to another server: a second instance, say.</summary>
    public Visitor Via(HttpClient other) => new(other, Jar);

    public string? CsrfCookie => Jar[Protocol.CookieNames.Csrf];
    public string? SessionCookie => Jar[Protocol.CookieNames.Session];

    public async Task<RawResponse> SendAsync(HttpMethod method, string path, HttpContent? content = null, params (string, string)[] headers)
    {
        var response = await client.SendAsync(method, path, Jar.Header().Concat(headers), content);
        Jar.Absorb(response);
        return response;
    }

    public Task<RawResponse> GetAsync(string path, params (string, string)[] headers) => SendAsync(HttpMethod.Get, path, null, headers);

    /// <summary>An unsafe request carrying the token pair, as the seed describes.</summary>
    public Task<RawResponse> PostWithTokenAsync(string path, HttpContent? content = null, params (string, string)[] headers) =>
        SendAsync(HttpMethod.Post, path, content, [.. headers, (Protocol.HeaderNames.CsrfToken, CsrfCookie ?? "")]);

    public async Task<RawResponse> LoginAsync(string username, string password)
    {
        if (CsrfCookie is null)
            await GetAsync("/auth/csrf");
        return await PostWithTokenAsync("/auth/login", RawHttp.Json($$"""{"username": "{{username}}", "password": "{{password}}"}"""));
    }
}
