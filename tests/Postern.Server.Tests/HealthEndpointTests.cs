using System.Net;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>/healthz and /readyz over real HTTP, and the <c>healthcheck</c> command the container's HEALTHCHECK runs.</summary>
public sealed class HealthEndpointTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly PosternTestServer _server = fixture.Server;

    [Theory]
    [InlineData("/healthz", """{"status":"ok"}""")]
    [InlineData("/readyz", """{"status":"ready"}""")]
    [InlineData("/healthz/", """{"status":"ok"}""")]
    public async Task ProbesAnswerWithoutSessionOrCsrfCookiesAndAreNotCached(string path, string body)
    {
        // Cookies of a logged-in browser must not turn a probe into a session touch or a cookie refresh.
        var visitor = new Visitor(_server.CreateRawClient());
        await visitor.LoginAsync("alice", "alice-password");
        var response = await visitor.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(body, response.Body);
        Assert.Equal("application/json", response.ContentHeaders.ContentType?.MediaType);
        Assert.Equal("no-store", response.Header("Cache-Control"));
        Assert.Empty(response.Cookies);
        Assert.Null(response.Header("Vary"));
    }

    [Fact]
    public async Task HeadAnswersLikeGetWithoutABody()
    {
        var response = await _server.CreateRawClient().SendAsync(HttpMethod.Head, "/readyz");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("", response.Body);
        Assert.Equal("no-store", response.Header("Cache-Control"));
    }

    [Fact]
    public async Task ReadinessFailsWith503WhenTheDatabaseIsGone()
    {
        // A server of its own: this test destroys its database (deletes the SQLite file, or drops the PostgreSQL
        // database). Deleting is a fault root can cause too (chmod is not).
        await using var server = await PosternTestServer.StartAsync();
        using var client = server.CreateRawClient();
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Get, "/readyz")).Status);

        await TestStore.DestroyDatabaseAsync(server.DatabasePath);

        var ready = await client.SendAsync(HttpMethod.Get, "/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.Equal("unavailable", ready.Json().GetProperty("status").GetString());
        Assert.Equal("The database does not answer.", ready.Detail);
        Assert.Equal("no-store", ready.Header("Cache-Control"));
        // Liveness does no I/O: the process is up, so the orchestrator should not restart it.
        var live = await client.SendAsync(HttpMethod.Get, "/healthz");
        Assert.Equal(HttpStatusCode.OK, live.Status);
    }

    [Fact]
    public async Task TheHealthcheckCommandExits0AgainstALiveServer()
    {
        var result = await PosternProcess.RunAsync(_server.Folder,
            ["healthcheck", "--url", new Uri(_server.BaseAddress, "/healthz").ToString()]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task TheHealthcheckCommandExits1AgainstAClosedPort()
    {
        var closed = PosternProcess.FreeLoopbackPort();
        var result = await PosternProcess.RunAsync(_server.Folder, ["healthcheck", "--url", $"http://127.0.0.1:{closed}/healthz"]);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"127.0.0.1:{closed}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheHealthcheckCommandExits1WhenTheServerAnswersSomethingElse()
    {
        var result = await PosternProcess.RunAsync(_server.Folder,
            ["healthcheck", "--url", new Uri(_server.BaseAddress, "/no-such-probe").ToString()]);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("HTTP 404", result.Stderr, StringComparison.Ordinal);
    }
}
