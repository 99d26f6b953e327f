using System.Net;
using System.Text;
using System.Text.Json;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// <c>Postern:AllowedHosts</c>, Django's ALLOWED_HOSTS: a request for another host is refused with Django's message as
/// JSON before any link or CSRF check is built from the header; the defaults cover a development machine and the seed's
/// Docker name.
/// </summary>
public sealed class HostHeaderTests : IAsyncLifetime
{
    private PosternTestServer _server = null!;
    private PosternTestServer _configured = null!;

    public async Task InitializeAsync()
    {
        _server = await PosternTestServer.StartAsync();
        await _server.CreateUserAsync("alice", "alice-password", staff: true);
        _configured = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:AllowedHosts:0"] = ".example.com",
            ["Postern:AllowedHosts:1"] = "api.example.org",
        });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _configured.DisposeAsync();
    }

    private static async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> SendAsync(PosternTestServer server,
        HttpMethod method, string path, string host, params (string Name, string Value)[] headers)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = server.BaseAddress,
        };
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Host = host;
        foreach (var (name, value) in headers)
            request.Headers.TryAddWithoutValidation(name, value);
        if (method == HttpMethod.Post)
            request.Content = new StringContent("""{"name": "rebound"}""", Encoding.UTF8, "application/json");
        var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private static string Detail(string body) => JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;

    [Theory]
    [InlineData(EndpointPaths.Csrf)]
    [InlineData("/api/")]
    [InlineData("/api-auth/login/")]
    [InlineData("/api/schema/")]
    [InlineData("/nothing-here")]
    public async Task AForeignHostIsRefusedWithDjangosMessageOnEveryPath(string path)
    {
        var (status, body, response) = await SendAsync(_server, HttpMethod.Get, path, "evil.example");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Equal("Invalid HTTP_HOST header: 'evil.example'. You may need to add 'evil.example' to ALLOWED_HOSTS.", Detail(body));
        Assert.False(response.Headers.Contains("Set-Cookie"), "nothing is set for a foreign host");
        Assert.DoesNotContain("evil.example/", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LOCALHOST:8000")]
    [InlineData("localhost.")]
    [InlineData("127.0.0.1:80")]
    [InlineData("[::1]:8000")]
    [InlineData("backend")]
    [InlineData("backend:8000")]
    public async Task TheDefaultsAnswerADevelopmentMachineAndTheSeedsDockerName(string host)
    {
        var (status, body, _) = await SendAsync(_server, HttpMethod.Get, "/api/", host);
        Assert.True(status == HttpStatusCode.Forbidden, body); // reached the API: not signed in
        Assert.Equal("Authentication credentials were not provided.", Detail(body));
    }

    [Theory]
    [InlineData("example.com", true)]
    [InlineData("www.example.com:8443", true)]
    [InlineData("a.b.example.com", true)]
    [InlineData("api.example.org", true)]
    [InlineData("www.api.example.org", false)]
    [InlineData("badexample.com", false)]
    [InlineData("localhost", false)]
    public async Task AConfiguredListReplacesTheDefaultsWithDjangosPatterns(string host, bool allowed)
    {
        var (status, body, _) = await SendAsync(_configured, HttpMethod.Get, EndpointPaths.Csrf, host);
        Assert.True(allowed ? status == HttpStatusCode.OK : status == HttpStatusCode.BadRequest, $"{host}: {status} {body}");
    }

    [Fact]
    public async Task AMalformedHostSaysSo()
    {
        var (status, body, _) = await SendAsync(_server, HttpMethod.Get, "/api/", "under_score.example");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Invalid HTTP_HOST header: 'under_score.example'. The domain name provided is not valid according to RFC 1034/1035.",
            Detail(body));
    }

    /// <summary>
    /// DNS rebinding: the attacker's name resolves to this server, so the victim's browser sends Host and Origin both set to
    /// it, which the CSRF Origin check alone would take for a same-origin request.
    /// </summary>
    [Fact]
    public async Task ARebindingPostWithMatchingHostAndOriginChangesNothing()
    {
        var staff = new Visitor(_server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await staff.LoginAsync("alice", "alice-password")).Status);
        var (status, body, _) = await SendAsync(_server, HttpMethod.Post, "/api/groups/", $"evil.example:{_server.BaseAddress.Port}",
            ("Origin", $"http://evil.example:{_server.BaseAddress.Port}"),
            ("Cookie", $"sessionid={staff.SessionCookie}; csrftoken={staff.CsrfCookie}"), ("X-CSRFToken", staff.CsrfCookie!));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("Invalid HTTP_HOST header", Detail(body), StringComparison.Ordinal);
        Assert.Null(await _server.Groups.FindGroupByNameAsync("rebound"));
    }

    [Fact]
    public async Task HealthProbesAnswerWhateverTheHost()
    {
        var (status, _, _) = await SendAsync(_server, HttpMethod.Get, "/healthz", "10.1.2.3:8000");
        Assert.Equal(HttpStatusCode.OK, status);
    }
}
