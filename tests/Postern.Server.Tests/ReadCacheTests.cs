using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Postern.Server.Storage;
using Postern.Server.Storage.Caching;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The in-process read cache on SQLite: it serves sessions, users and pages from memory, yet a write made by anyone
/// else (another connection, process or instance on the same file) is seen by the very next request.
/// </summary>
[Trait("Store", "sqlite-only")]
public sealed class ReadCacheTests : IAsyncLifetime
{
    private PosternTestServer _server = null!;

    public async Task InitializeAsync()
    {
        var folder = Directory.CreateTempSubdirectory("postern-cache-").FullName;
        _server = await PosternTestServer.StartAsync(new Dictionary<string, string?> { ["Postern:Cache:MaxEntries"] = "8" },
            folder, Path.Combine(folder, "postern.sqlite3"));
        await _server.SeedLikeDjangoPeerAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private ReadCache Cache => Assert.IsType<ReadCache>(_server.Services.GetRequiredService<Database>().Cache);

    private async Task<Visitor> SignedInAsync()
    {
        var visitor = new Visitor(_server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("alice", "alice-password")).Status);
        return visitor;
    }

    [Fact]
    public async Task TheStoresOfASqliteServerReadThroughTheCacheWatchingSqlitesDataVersion()
    {
        Assert.IsType<SqliteDataVersion>(Cache.Signal);
        var visitor = await SignedInAsync();
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/user")).Status);
        Assert.True(Cache.Count > 0, "the session read was kept");
        Assert.True(Assert.IsType<SessionStore>(_server.Sessions).HoldsSession(visitor.SessionCookie!));

        // The users' and groups' reads go through the same cache.
        var kept = Cache.Count;
        await _server.Users.CountUsersAsync();
        await _server.Groups.CountGroupsAsync();
        Assert.Equal(kept + 2, Cache.Count);
    }

    [Fact]
    public async Task ARenameWrittenByAnotherConnectionShowsOnTheNextRequest()
    {
        var visitor = await SignedInAsync();
        var before = await visitor.GetAsync("/api/users/2/");
        Assert.Equal("bob", JsonDocument.Parse(before.Body).RootElement.GetProperty("username").GetString());
        _ = await visitor.GetAsync("/api/users/2/"); // now certainly cached

        await _server.ExecuteSqlAsync("UPDATE users SET username = 'robert' WHERE id = 2");

        var after = await visitor.GetAsync("/api/users/2/");
        Assert.Equal("robert", JsonDocument.Parse(after.Body).RootElement.GetProperty("username").GetString());
        await _server.ExecuteSqlAsync("UPDATE users SET username = 'bob' WHERE id = 2");
    }

    /// <summary>
    /// The reads of one request share the token read at its first one (the session, the count, the page); the next request
    /// on the same keep-alive connection reads it afresh, so a write between the two shows.
    /// </summary>
    [Fact]
    public async Task AWriteBetweenTwoRequestsOnOneKeptAliveConnectionShowsOnTheSecond()
    {
        var signedIn = await SignedInAsync();
        using var oneConnection = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, UseCookies = false })
        {
            BaseAddress = _server.BaseAddress,
        };
        async Task<string?> SecondUsernameOnThePageAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/users/?page=1");
            request.Headers.Add("Cookie", $"sessionid={signedIn.SessionCookie}");
            using var response = await oneConnection.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return page.RootElement.GetProperty("results")[1].GetProperty("username").GetString();
        }
        Assert.Equal("bob", await SecondUsernameOnThePageAsync());
        Assert.Equal("bob", await SecondUsernameOnThePageAsync());

        await _server.ExecuteSqlAsync("UPDATE users SET username = 'robert' WHERE id = 2");
        Assert.Equal("robert", await SecondUsernameOnThePageAsync());
        await _server.ExecuteSqlAsync("UPDATE users SET username = 'bob' WHERE id = 2");
        Assert.Equal("bob", await SecondUsernameOnThePageAsync());
    }

    [Fact]
    public async Task ASessionDeletedByAnotherConnectionIsRefusedOnTheNextRequest()
    {
        var visitor = await SignedInAsync();
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/user")).Status);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/user")).Status);

        await _server.ExecuteSqlAsync("DELETE FROM sessions WHERE session_key = @key", ("@key", visitor.SessionCookie));

        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task TheCacheHoldsNoMoreThanItsConfiguredEntries()
    {
        var visitor = await SignedInAsync();
        for (var id = 1; id <= 27; id++)
        {
            Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync($"/api/users/{id}/")).Status);
            Assert.InRange(Cache.Count, 0, 8);
        }
        for (var page = 1; page <= 3; page++)
            Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync($"/api/users/?page={page}")).Status);
        Assert.InRange(Cache.Count, 0, 8);
    }

    [Fact]
    public async Task TheCacheCanBeTurnedOff()
    {
        var folder = Directory.CreateTempSubdirectory("postern-nocache-").FullName;
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?> { ["Postern:Cache:Enabled"] = "false" },
            folder, Path.Combine(folder, "postern.sqlite3"));
        Assert.Null(server.Services.GetRequiredService<Database>().Cache);
    }
}
