using System.Net;
using Npgsql;
using Postern.Server.Storage;
using Postern.Server.Storage.Postgres;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>One private PostgreSQL cluster for the class, and a server on a database of its own, seeded like the Django peer.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Postgres { get; private set; } = null!;
    public PosternTestServer Server { get; private set; } = null!;
    public string DatabaseUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        DatabaseUrl = await Postgres.CreateDatabaseAsync();
        Server = await PosternTestServer.StartAsync(databasePath: DatabaseUrl);
        await Server.SeedLikeDjangoPeerAsync(extraUsers: 3);
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
            await Server.DisposeAsync();
        if (Postgres is not null)
            await Postgres.DisposeAsync();
    }
}

/// <summary>
/// What only PostgreSQL has: URLs, several instances migrating and sharing one database, a database gone or frozen
/// under a running server. Everything else runs on PostgreSQL as the whole suite (scripts/test.sh, POSTERN_TEST_STORE=postgres).
/// </summary>
[Trait("Store", "postgres-only")]
public sealed class PostgresStorageTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    private readonly PosternTestServer _server = fixture.Server;
    private Visitor NewVisitor() => new(_server.CreateRawClient());

    private async Task<(Visitor Visitor, long UserId)> SignedInAsync(string username, string password = "pw-12345678")
    {
        var user = await _server.Users.FindUserByUsernameAsync(username) ?? await _server.CreateUserAsync(username, password);
        var visitor = NewVisitor();
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, password)).Status);
        return (visitor, user.Id);
    }

    [Fact]
    public async Task TwoServersShareOneDatabase()
    {
        await using var second = await PosternTestServer.StartAsync(databasePath: fixture.DatabaseUrl);
        var (visitor, _) = await SignedInAsync("pg-two-instances");
        var cookie = ("Cookie", $"sessionid={visitor.SessionCookie}");

        var onSecond = await second.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user", [cookie]);
        Assert.Equal(HttpStatusCode.OK, onSecond.Status);
        Assert.Equal("pg-two-instances", onSecond.Json().GetProperty("username").GetString());

        Assert.Equal(HttpStatusCode.OK, (await visitor.PostWithTokenAsync("/auth/logout")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await second.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user", [cookie])).Status);
    }

    [Fact]
    public async Task SeveralInstancesCanMigrateOneDatabaseAtOnce()
    {
        var url = await fixture.Postgres.CreateDatabaseAsync();
        var databases = Enumerable.Range(0, 4).Select(_ => Database.Open(url)).ToList();
        try
        {
            // Without the advisory lock, racing CREATE TABLEs can fail with duplicate-object errors.
            await Task.WhenAll(databases.Select(d => new StoreAdministration(d).MigrateAsync()));
            var secrets = await Task.WhenAll(databases.Select(d =>
                new StoreAdministration(d).GetOrCreateSettingAsync("secret", () => Guid.NewGuid().ToString())));
            Assert.Single(secrets.Distinct());
            Assert.Equal(0, await new UserStore(databases[0], TimeProvider.System).CountUsersAsync());
        }
        finally
        {
            foreach (var database in databases)
                await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnUnreachableDatabaseIsStoreUnavailable()
    {
        // Nothing listens on the port of a closed listener: a connection failure, reported as such.
        await using var database = Database.Open($"postgres://postgres@127.0.0.1:{PosternProcess.FreeLoopbackPort()}/nothing");
        await Assert.ThrowsAsync<StoreUnavailableException>(() => new UserStore(database, TimeProvider.System).FindUserByIdAsync(1));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => database.MigrateAsync());
    }

    [Fact]
    public async Task ADatabaseGoneUnderARunningServerIsA503Json()
    {
        var url = await fixture.Postgres.CreateDatabaseAsync();
        await using var server = await PosternTestServer.StartAsync(databasePath: url);
        await fixture.Postgres.DropDatabaseAsync(url);

        var response = await server.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user",
            [("Cookie", "sessionid=abcdefghijklmnopqrstuvwxyz012345")]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.Status);
        Assert.StartsWith("application/json", response.ContentHeaders.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.Equal("Service temporarily unavailable, try again shortly.", response.Detail);
        Assert.Equal("1", response.Header("Retry-After"));
    }

    [Theory]
    [InlineData("postgres://", "Cannot use the database: A PostgreSQL URL looks like postgres://user:password@host:port/name.")]
    [InlineData("postgres://postgres@127.0.0.1:{port}/nothing", "Cannot use the database: ")]
    public async Task AnUnusableDatabaseUrlIsOneErrorLine(string url, string expected)
    {
        var folder = Directory.CreateTempSubdirectory("postern-pg-cli-").FullName;
        try
        {
            var result = await PosternProcess.RunAsync(folder, ["migrate", "--db", url.Replace("{port}",
                PosternProcess.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)]);
            Assert.True(result.ExitCode == 1, result.ToString());
            var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: ", line, StringComparison.Ordinal);
            Assert.Contains(expected, line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("postgres://app:s%3Acr%40t@db.example:6543/postern", "db.example", 6543, "postern", "app", "s:cr@t")]
    [InlineData("postgresql://u@localhost/x", "localhost", 5432, "x", "u", null)]
    public void DatabaseUrlsBecomeConnectionStrings(string url, string host, int port, string database, string username, string? password)
    {
        Assert.True(PostgresDatabaseUrl.IsPostgres(url));
        var parsed = new NpgsqlConnectionStringBuilder(PostgresDatabaseUrl.ToConnectionString(url));
        Assert.Equal((host, port, database, username, password),
            (parsed.Host, parsed.Port, parsed.Database, parsed.Username, parsed.Password));
        Assert.False(PostgresDatabaseUrl.IsPostgres("/var/lib/postern/postern.sqlite3"));
        // Postern's timeouts unless the URL says otherwise (below).
        Assert.Equal((5, 10, 30), (parsed.Timeout, parsed.CommandTimeout, parsed.KeepAlive));
    }

    [Theory]
    [InlineData("postgres://u@h/x?Timeout=20&Command%20Timeout=60&Keepalive=0")]
    [InlineData("postgres://u@h/x?timeout=20&CommandTimeout=60&keepalive=0")]
    public void TheUrlsQueryOverridesTheTimeouts(string url)
    {
        var parsed = new NpgsqlConnectionStringBuilder(PostgresDatabaseUrl.ToConnectionString(url));
        Assert.Equal((20, 60, 0), (parsed.Timeout, parsed.CommandTimeout, parsed.KeepAlive));
    }

    [Fact]
    public async Task AFrozenDatabaseIsA503WithinTheTimeoutsAndServiceResumesWhenItThaws()
    {
        // SIGSTOP on every process of the cluster: the kernel still accepts connections, nothing answers them, as
        // with a hung database host. Without timeouts of its own Postern would wait Npgsql's 15 s to connect and 30 s
        // (and the cancellation's 2 s) for a statement. The bounds below only guard against such a hang; they are
        // no measurement.
        var url = await fixture.Postgres.CreateDatabaseAsync();
        await using var pooled = await PosternTestServer.StartAsync(databasePath: url);
        // Every operation of this one opens a new connection, so it meets the connect timeout, not the command timeout.
        await using var unpooled = await PosternTestServer.StartAsync(databasePath: url + "?Pooling=false");
        await pooled.CreateUserAsync("frozen", "pw-12345678");
        var visitor = new Visitor(pooled.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("frozen", "pw-12345678")).Status);
        var cookie = ("Cookie", $"sessionid={visitor.SessionCookie}");
        Assert.Equal(HttpStatusCode.OK, (await unpooled.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user", [cookie])).Status);

        await fixture.Postgres.FreezeAsync();
        try
        {
            var answers = await Task.WhenAll(
                AnswerWithinAsync(pooled, cookie, TimeSpan.FromSeconds(25)),
                AnswerWithinAsync(unpooled, cookie, TimeSpan.FromSeconds(10)));
            foreach (var answer in answers)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status);
                Assert.Equal("Service temporarily unavailable, try again shortly.", answer.Detail);
                Assert.Equal("1", answer.Header("Retry-After"));
            }
        }
        finally
        {
            await fixture.Postgres.ThawAsync();
        }

        // No restart: the pools drop the connections that timed out and open new ones.
        Assert.Equal(HttpStatusCode.OK, (await pooled.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user", [cookie])).Status);
        Assert.Equal(HttpStatusCode.OK, (await unpooled.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user", [cookie])).Status);
    }

    private static async Task<RawResponse> AnswerWithinAsync(PosternTestServer server, (string, string) cookie, TimeSpan bound)
    {
        using var client = server.CreateRawClient();
        var request = client.SendAsync(HttpMethod.Get, "/auth/user", [cookie]);
        var finished = await Task.WhenAny(request, Task.Delay(bound));
        Assert.True(finished == request, $"{server.BaseAddress} did not answer within {bound.TotalSeconds} s of the database freezing");
        return await request;
    }
}

