using System.Net;
using Npgsql;
using Postern.Protocol;
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

/// <summary>The integration scenarios that touch storage, on PostgreSQL instead of SQLite: same wire, same rules.</summary>
public sealed class PostgresStorageTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    private readonly PosternTestServer _server = fixture.Server;
    private string Base => _server.BaseAddress.GetLeftPart(UriPartial.Authority);
    private Visitor NewVisitor() => new(_server.CreateRawClient());

    private async Task<(Visitor Visitor, long UserId)> SignedInAsync(string username, string password = "pw-12345678")
    {
        var user = await _server.Users.FindUserByUsernameAsync(username) ?? await _server.CreateUserAsync(username, password);
        var visitor = NewVisitor();
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, password)).Status);
        return (visitor, user.Id);
    }

    private static Task<RawResponse> WriteAsync(Visitor visitor, string method, string path, string? json = null) =>
        visitor.SendAsync(new HttpMethod(method), path, json is null ? null : RawHttp.Json(json), ("X-CSRFToken", visitor.CsrfCookie!));

    private async Task ExecuteAsync(string sql, long userId)
    {
        await using var db = new NpgsqlConnection(PostgresDatabaseUrl.ToConnectionString(fixture.DatabaseUrl));
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        command.Parameters.AddWithValue("id", userId);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task LoginWhoamiAndLogout()
    {
        var (visitor, userId) = await SignedInAsync("alice", "alice-password");
        var whoami = await visitor.GetAsync("/auth/user");
        Assert.Equal(HttpStatusCode.OK, whoami.Status);
        Assert.Equal("alice", whoami.Json().GetProperty("username").GetString());

        var logout = await visitor.PostWithTokenAsync("/auth/logout");
        Assert.Equal(HttpStatusCode.OK, logout.Status);
        Assert.True(logout.Cookie("sessionid")!.IsDeletion);
        Assert.DoesNotContain(await _server.Sessions.ListLiveSessionsOfUserAsync(userId, DateTimeOffset.UtcNow), s => s.Key == visitor.SessionCookie);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task AWrongPasswordIsRefused()
    {
        var response = await NewVisitor().LoginAsync("bob", "not-bobs-password");
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("Invalid username or password.", response.Detail);
    }

    [Fact]
    public async Task APlantedSessionKeyIsReplacedAtLogin()
    {
        var (attacker, _) = await SignedInAsync("pg-fixation-attacker");
        var plantedKey = attacker.SessionCookie!;
        var victim = NewVisitor();
        victim.Jar[CookieNames.Session] = plantedKey;

        var login = await victim.LoginAsync("bob", "bob-password");

        Assert.NotEqual(plantedKey, login.Cookie("sessionid")!.Value);
        Assert.Equal(HttpStatusCode.Forbidden, (await attacker.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task APasswordChangeEndsEveryOtherSession()
    {
        var (laptop, userId) = await SignedInAsync("pg-changer");
        var (phone, _) = await SignedInAsync("pg-changer");
        var user = (await _server.Users.FindUserByIdAsync(userId))!;

        await _server.Accounts.ChangePasswordAsync(user, "a-new-password", keepSessionKey: laptop.SessionCookie);

        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/auth/user")).Status);
        var refused = await phone.GetAsync("/auth/user");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.True(refused.Cookie("sessionid")!.IsDeletion);
    }

    [Fact]
    public async Task AnExpiredSessionIsRefusedAndPurged()
    {
        var (visitor, userId) = await SignedInAsync("pg-expiring");
        await ExecuteAsync("UPDATE sessions SET expires_at = 1 WHERE user_id = @id", userId);

        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync("/auth/user")).Status);
        Assert.Null(visitor.SessionCookie);
        Assert.True(await _server.Sessions.DeleteExpiredSessionsAsync(DateTimeOffset.UtcNow) >= 1);
    }

    [Fact]
    public async Task DeactivationAndDeletionEndSessions()
    {
        var (deactivated, deactivatedId) = await SignedInAsync("pg-deactivated");
        await _server.Users.SetActiveAsync(deactivatedId, false);
        Assert.Equal(HttpStatusCode.Forbidden, (await deactivated.GetAsync("/auth/user")).Status);

        var (deleted, deletedId) = await SignedInAsync("pg-deleted");
        await _server.Users.DeleteUserAsync(deletedId);
        Assert.Equal(HttpStatusCode.Forbidden, (await deleted.GetAsync("/auth/user")).Status);
        Assert.Empty(await _server.Sessions.ListLiveSessionsOfUserAsync(deletedId, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task ListsAndDetails()
    {
        var (alice, _) = await SignedInAsync("alice", "alice-password");
        var users = (await alice.GetAsync("/api/users/?page_size=100")).Json();
        Assert.Equal(users.GetProperty("count").GetInt32(), users.GetProperty("results").GetArrayLength());
        var entry = users.GetProperty("results").EnumerateArray().Single(u => u.GetProperty("username").GetString() == "alice");
        Assert.Equal(2, entry.GetProperty("groups").GetArrayLength());
        var detail = (await alice.GetAsync(entry.GetProperty("url").GetString()!)).Json();
        Assert.Equal(entry.GetRawText(), detail.GetRawText());
        var group = (await alice.GetAsync(detail.GetProperty("groups")[0].GetString()!)).Json();
        Assert.Equal("staff", group.GetProperty("name").GetString());
        Assert.True((await alice.GetAsync("/api/groups/")).Json().GetProperty("count").GetInt32() >= 2);
    }

    [Fact]
    public async Task StaffCreateUpdateAndDeleteAGroup()
    {
        var (alice, _) = await SignedInAsync("alice", "alice-password");
        var created = await WriteAsync(alice, "POST", "/api/groups/", """{"name": "pg-editors"}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var url = created.Json().GetProperty("url").GetString()!;

        var renamed = await WriteAsync(alice, "PUT", url, """{"name": "pg-writers"}""");
        Assert.Equal("pg-writers", renamed.Json().GetProperty("name").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(alice, "DELETE", url)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync(url)).Status);
    }

    [Fact]
    public async Task StaffCreateAUserWithGroupsAndEditThem()
    {
        var (alice, _) = await SignedInAsync("alice", "alice-password");
        var created = await WriteAsync(alice, "POST", "/api/users/", $$"""{"username": "pg-dave", "email": "dave@example.org", "groups": ["{{Base}}/api/groups/2/"]}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var url = created.Json().GetProperty("url").GetString()!;
        Assert.Equal([$"{Base}/api/groups/2/"], created.Json().GetProperty("groups").EnumerateArray().Select(g => g.GetString()));

        var patched = await WriteAsync(alice, "PATCH", url, """{"groups": ["/api/groups/1/", "/api/groups/2/"]}""");
        Assert.Equal(2, patched.Json().GetProperty("groups").GetArrayLength());
        Assert.Equal("dave@example.org", patched.Json().GetProperty("email").GetString());

        var put = await WriteAsync(alice, "PUT", url, """{"username": "pg-dave2"}""");
        Assert.Equal("pg-dave2", put.Json().GetProperty("username").GetString());
        Assert.Equal(2, put.Json().GetProperty("groups").GetArrayLength());
        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(alice, "DELETE", url)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync(url)).Status);
    }

    [Theory]
    [InlineData("POST", "/api/users/", """{"username": "alice"}""", """{"username":["A user with that username already exists."]}""")]
    [InlineData("POST", "/api/groups/", """{"name": "staff"}""", """{"name":["group with this name already exists."]}""")]
    [InlineData("PATCH", "/api/users/2/", """{"username": "alice"}""", """{"username":["A user with that username already exists."]}""")]
    [InlineData("PUT", "/api/groups/2/", """{"name": "staff"}""", """{"name":["group with this name already exists."]}""")]
    public async Task DuplicateNamesAreA400(string method, string path, string body, string expected)
    {
        var (alice, _) = await SignedInAsync("alice", "alice-password");
        var response = await WriteAsync(alice, method, path, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(expected, response.Body);
    }

    [Fact]
    public async Task TheStoreRefusesDuplicatesItself()
    {
        // The unique constraints, not only the API's checks: two racing writers meet them.
        await Assert.ThrowsAsync<Storage.DuplicateUsernameException>(() => _server.Users.CreateUserAsync(new Storage.NewUser("bob", "", "!")));
        await Assert.ThrowsAsync<Storage.DuplicateGroupNameException>(() => _server.Groups.CreateGroupAsync("readers"));
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
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresStore(url)).ToList();
        try
        {
            // Without the advisory lock, racing CREATE TABLEs can fail with duplicate-object errors.
            await Task.WhenAll(stores.Select(s => s.MigrateAsync()));
            var secrets = await Task.WhenAll(stores.Select(s => s.GetOrCreateSettingAsync("secret", () => Guid.NewGuid().ToString())));
            Assert.Single(secrets.Distinct());
            Assert.Equal(0, await stores[0].CountUsersAsync());
        }
        finally
        {
            foreach (var store in stores)
                await store.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnUnreachableDatabaseIsStoreUnavailable()
    {
        // Nothing listens on the port of a closed listener: a connection failure, reported as such.
        await using var store = new PostgresStore($"postgres://postgres@127.0.0.1:{ClosedPort()}/nothing");
        await Assert.ThrowsAsync<Storage.StoreUnavailableException>(() => store.FindUserByIdAsync(1));
        await Assert.ThrowsAsync<Storage.StoreUnavailableException>(() => store.MigrateAsync());
    }

    [Fact]
    public async Task ADatabaseGoneUnderARunningServerIsA503Json()
    {
        var url = await fixture.Postgres.CreateDatabaseAsync();
        await using var server = await PosternTestServer.StartAsync(databasePath: url);
        await fixture.Postgres.DropDatabaseAsync(url);

        var response = await server.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user", [("Cookie", "sessionid=abcdefghijklmnopqrstuvwxyz012345")]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.Status);
        Assert.StartsWith("application/json", response.ContentHeaders.ContentType!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCommandLineMigratesAndCreatesUsers()
    {
        var url = await fixture.Postgres.CreateDatabaseAsync();
        var folder = Directory.CreateTempSubdirectory("postern-pg-cli-").FullName;
        try
        {
            var migrate = await PosternProcess.RunAsync(folder, ["migrate", "--db", url]);
            Assert.True(migrate.ExitCode == 0, migrate.ToString());
            var again = await PosternProcess.RunAsync(folder, ["migrate", "--db", url]);
            Assert.True(again.ExitCode == 0, again.ToString());

            var created = await PosternProcess.RunAsync(folder, ["createuser", "carol", "--db", url, "--password-stdin"], "carol-password\n");
            Assert.True(created.ExitCode == 0, created.ToString());
            var duplicate = await PosternProcess.RunAsync(folder, ["createuser", "carol", "--db", url, "--password-stdin"], "carol-password\n");
            Assert.True(duplicate.ExitCode == 1, duplicate.ToString());
            var viaEnvironment = await PosternProcess.RunAsync(folder, ["createuser", "dan", "--password-stdin"], "dan-password\n",
                new Dictionary<string, string?> { [Commands.PosternCommandLine.DatabaseVariable] = url });
            Assert.True(viaEnvironment.ExitCode == 0, viaEnvironment.ToString());

            await using var server = await PosternTestServer.StartAsync(databasePath: url);
            Assert.Equal(HttpStatusCode.OK, (await new Visitor(server.CreateRawClient()).LoginAsync("carol", "carol-password")).Status);
            Assert.NotNull(await server.Users.FindUserByUsernameAsync("dan"));
            Assert.Empty(Directory.GetFiles(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("postgres://", "Cannot use the database: A PostgreSQL URL looks like postgres://user:password@host:port/name.")]
    [InlineData("postgres://postgres@127.0.0.1:{port}/nothing", "Cannot use the database: ")]
    public async Task AnUnusableDatabaseUrlIsOneErrorLine(string url, string expected)
    {
        var folder = Directory.CreateTempSubdirectory("postern-pg-cli-").FullName;
        try
        {
            var result = await PosternProcess.RunAsync(folder, ["migrate", "--db", url.Replace("{port}", ClosedPort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)]);
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
        Assert.Equal((host, port, database, username, password), (parsed.Host, parsed.Port, parsed.Database, parsed.Username, parsed.Password));
        Assert.False(PostgresDatabaseUrl.IsPostgres("/var/lib/postern/postern.sqlite3"));
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
