using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Postern.Protocol;
using Postern.Server.Storage.Postgres;
using Postern.Testing;

using static Postern.Differential.Tests.SeedClient;

namespace Postern.Differential.Tests;

/// <summary>Both Django reference backends, each on a SQLite file of its own that an import can read.</summary>
public sealed class DjangoDatabases : IAsyncLifetime
{
    /// <summary>The reference backend's SECRET_KEY (tests/django-backend/backend/settings.py), which signs its sessions.</summary>
    public const string SecretKey = "reference-backend-key-for-tests-only-do-not-deploy-8c1f";

    private readonly string _folder = Directory.CreateTempSubdirectory("postern-django-import-").FullName;
    private readonly Dictionary<PeerKind, DjangoPeer> _peers = [];

    public string DatabaseOf(PeerKind kind) => Path.Combine(_folder, $"{kind}.sqlite3");

    public DjangoPeer this[PeerKind kind] => _peers[kind];

    public async Task InitializeAsync()
    {
        var starting = new[] { PeerKind.Modern, PeerKind.Legacy }.Select(async kind =>
            (kind, await DjangoPeer.StartAsync(kind, database: DatabaseOf(kind)))).ToList();
        foreach (var (kind, peer) in await Task.WhenAll(starting))
            _peers[kind] = peer;
    }

    public async Task DisposeAsync()
    {
        foreach (var peer in _peers.Values)
            await peer.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>
/// <c>import-django</c> from the real Django (5.2 and 3.2) into Postern (SQLite, or PostgreSQL in the second pass): users
/// with their hashes, groups, memberships and live sessions, which then work on Postern as they did on Django.
/// </summary>
public sealed class DjangoImportTests(DjangoDatabases django) : IClassFixture<DjangoDatabases>
{
    public static TheoryData<PeerKind> Kinds => [PeerKind.Modern, PeerKind.Legacy];

    [Theory]
    [MemberData(nameof(Kinds))]
    public Task UsersGroupsAndLiveSessionsCarryOverAndASecondRunDuplicatesNothing(PeerKind kind) =>
        CarryOverTwiceAsync(django[kind], django.DatabaseOf(kind));

    /// <summary>
    /// The import's whole story from one Django database (<paramref name="from"/>, which <paramref name="peer"/> runs on:
    /// a SQLite file or a PostgreSQL URL) into a new Postern (its database <paramref name="posternDatabase"/>, or the test
    /// store's): a dry run, the import, every user's columns as Django has them, the sessions signed in on Postern, a
    /// second run that adds nothing, a third that carries a change over.
    /// </summary>
    internal static async Task CarryOverTwiceAsync(DjangoPeer peer, string from, string? posternDatabase = null)
    {
        using var djangoClient = peer.CreateRawClient();
        // On Django: alice signed in; bob signed in twice, then a password change in the second session, which leaves the
        // first one in django_session under a hash that no longer matches (Django would refuse it).
        var alice = await LogInAsync(djangoClient, "alice", "alice-password");
        var bobBefore = await LogInAsync(djangoClient, "bob", "bob-password");
        var bob = await LogInAsync(djangoClient, "bob", "bob-password");
        var changed = await SendAsync(djangoClient, bob, HttpMethod.Post, "/auth/password/change",
            """{"old_password": "bob-password", "new_password1": "Imported-Passw0rd", "new_password2": "Imported-Passw0rd"}""");
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        var users = await SendAsync(djangoClient, alice, HttpMethod.Get, "/api/users/");
        var userCount = users.Json().GetProperty("count").GetInt32();
        // Every kind of column with a value the seed does not give it: flags the other way round, names outside ASCII, a
        // last login with microseconds long before the others.
        var postgres = PostgresDatabaseUrl.IsPostgres(from);
        Assert.Equal(1, await TestStore.ExecuteAsync(from, $"""
            UPDATE auth_user SET is_active = {(postgres ? "false" : "0")}, is_staff = {(postgres ? "true" : "1")},
                is_superuser = {(postgres ? "true" : "1")}, first_name = 'Zoë', last_name = 'O''Brien-Ünal',
                last_login = '2001-02-03 04:05:06.789012{(postgres ? "+00" : "")}'
            WHERE username = 'user003';
            """));

        await using var postern = await PosternTestServer.StartAsync(databasePath: posternDatabase);
        string[] import = ["import-django", "--db", postern.DatabasePath, "--from", from, "--sessions"];
        var env = new Dictionary<string, string?> { ["DJANGO_SECRET_KEY"] = DjangoDatabases.SecretKey };

        var dryRun = await PosternProcess.RunAsync(postern.Folder, [.. import, "--dry-run"], environment: env);
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Contains($"Users: {userCount} added, 0 updated, 0 unchanged", dryRun.Stdout, StringComparison.Ordinal);
        Assert.Contains("Dry run: nothing was written.", dryRun.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, await postern.Users.CountUsersAsync());

        var first = await PosternProcess.RunAsync(postern.Folder, import, environment: env);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains($"Users: {userCount} added, 0 updated, 0 unchanged", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("Groups: 2 added, 0 unchanged", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("Sessions: 2 added, 0 unchanged; not imported: 0 expired, 0 without a user, 1 from before a password change",
            first.Stdout, StringComparison.Ordinal);
        // Every user as Django has it: the hash, the flags, the names, the dates to the microsecond.
        var inDjango = await DjangoUsersAsync(from);
        Assert.Equal(userCount, inDjango.Count);
        Assert.Equal(inDjango, await PosternUsersAsync(postern.DatabasePath, inDjango.Keys));

        // Django's sessions are Postern's now: the same cookie signs the same user in; the stale one signs nobody in.
        using var posternClient = postern.CreateRawClient();
        Assert.Equal("alice", (await SendAsync(posternClient, alice, HttpMethod.Get, "/auth/user")).Json().GetProperty("username").GetString());
        Assert.Equal("bob", (await SendAsync(posternClient, bob, HttpMethod.Get, "/auth/user")).Json().GetProperty("username").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(posternClient, bobBefore, HttpMethod.Get, "/auth/user")).Status);
        // The same users at the same URLs, in the same groups.
        foreach (var user in users.Json().GetProperty("results").EnumerateArray())
        {
            var path = new Uri(user.GetProperty("url").GetString()!).AbsolutePath;
            var same = (await SendAsync(posternClient, alice, HttpMethod.Get, path)).Json();
            Assert.Equal(user.GetProperty("username").GetString(), same.GetProperty("username").GetString());
            Assert.Equal(user.GetProperty("groups").GetArrayLength(), same.GetProperty("groups").GetArrayLength());
        }

        var second = await PosternProcess.RunAsync(postern.Folder, import, environment: env);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"Users: 0 added, 0 updated, {userCount} unchanged", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("Groups: 0 added, 2 unchanged", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("Memberships: 0 added, ", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("Sessions: 0 added, 2 unchanged", second.Stdout, StringComparison.Ordinal);

        // A change made on Django since is an update the next run carries over.
        var renamed = await SendAsync(djangoClient, alice, HttpMethod.Patch, "/auth/user", """{"first_name": "Alicia"}""");
        Assert.Equal(HttpStatusCode.OK, renamed.Status);
        var third = await PosternProcess.RunAsync(postern.Folder, import, environment: env);
        Assert.Contains($"Users: 0 added, 1 updated, {userCount - 1} unchanged", third.Stdout, StringComparison.Ordinal);
        Assert.Equal("Alicia", (await SendAsync(posternClient, alice, HttpMethod.Get, "/auth/user")).Json().GetProperty("first_name").GetString());
        // Django's hashes log in as they are (3.2's 260,000 iterations too; Postern then rehashes them as Django would).
        Assert.Equal(HttpStatusCode.OK, (await LogInOnAsync(posternClient, "bob", "Imported-Passw0rd")).Status);
        // Ids kept from Django do not collide with the next one handed out (PostgreSQL's identity is moved past them).
        var next = await postern.CreateUserAsync("after-import", "after-Import-0");
        Assert.True(next.Id > userCount, $"id {next.Id}");
    }

    [Fact]
    public async Task ADatabaseThatIsNotDjangosOrOfAnUnknownStateIsRefused()
    {
        await using var postern = await PosternTestServer.StartAsync();
        var folder = postern.Folder;

        var missing = await PosternProcess.RunAsync(folder, ["import-django", "--db", postern.DatabasePath, "--from", Path.Combine(folder, "nope.sqlite3")]);
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error: There is no Django database at ", missing.Stderr, StringComparison.Ordinal);

        // Postern's own database has none of Django's tables.
        var notDjango = await PosternProcess.RunAsync(folder, ["import-django", "--db", postern.DatabasePath, "--from", postern.DatabasePath]);
        Assert.Equal(1, notDjango.ExitCode);
        Assert.Contains("is not a Django database Postern can read", notDjango.Stderr, StringComparison.Ordinal);

        // A migration from a Django this Postern does not know.
        var future = Path.Combine(folder, "future.sqlite3");
        File.Copy(django.DatabaseOf(PeerKind.Modern), future);
        await ExecuteAsync(future, "INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0013_from_the_future', '2030-01-01 00:00:00');");
        var unknown = await PosternProcess.RunAsync(folder, ["import-django", "--db", postern.DatabasePath, "--from", future]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("Django's migration auth.0013_from_the_future is not one Postern knows", unknown.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, await postern.Users.CountUsersAsync());

        // A project hashing with Argon2: the user is imported, and the output says who must reset a password.
        var argon = Path.Combine(folder, "argon2.sqlite3");
        File.Copy(django.DatabaseOf(PeerKind.Modern), argon);
        await ExecuteAsync(argon, "UPDATE auth_user SET password = 'argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g' WHERE username = 'bob';");
        var foreign = await PosternProcess.RunAsync(folder, ["import-django", "--db", postern.DatabasePath, "--from", argon, "--dry-run"]);
        Assert.True(foreign.ExitCode == 0, foreign.ToString());
        Assert.Contains("(1 with a password hash Postern does not verify, not PBKDF2", foreign.Stdout, StringComparison.Ordinal);

        // --sessions with a key that did not sign them: nothing imported, and the output says what to check.
        var wrongKey = await PosternProcess.RunAsync(folder, ["import-django", "--db", postern.DatabasePath, "--from",
            django.DatabaseOf(PeerKind.Modern), "--sessions", "--django-secret-key", "not-the-projects-key", "--dry-run"]);
        Assert.True(wrongKey.ExitCode == 0, wrongKey.ToString());
        Assert.Contains("Sessions: 0 added", wrongKey.Stdout, StringComparison.Ordinal);
        Assert.Contains("is the Django key given the project's SECRET_KEY?", wrongKey.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// auth_user as Django wrote it, read with SQL of each store (not Postern's reader): username → password, e-mail,
    /// is_active, is_staff, is_superuser, first and last name, date_joined and last_login (UTC, to the microsecond).
    /// </summary>
    private static async Task<SortedDictionary<string, string>> DjangoUsersAsync(string database)
    {
        var postgres = PostgresDatabaseUrl.IsPostgres(database);
        // PostgreSQL: timestamptz and boolean; SQLite: Django's text ("2026-12-06 07:30:00.123456", in UTC) and 0/1.
        string Time(string column) => postgres ? $"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')" : column;
        string Flag(string column) => postgres ? $"CAST({column} AS INTEGER)" : column;
        var lines = await TestStore.QueryTextsAsync(database, $"""
            SELECT username || '|' || password || '|' || email || '|' || {Flag("is_active")} || '|' || {Flag("is_staff")} || '|'
                || {Flag("is_superuser")} || '|' || first_name || '|' || last_name || '|' || {Time("date_joined")} || '|'
                || COALESCE({Time("last_login")}, '')
            FROM auth_user;
            """);
        return Rows(lines, _ => true, text => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));
    }

    /// <summary>The same columns of Postern's users (either store: microseconds since 1970 in a bigint), for those usernames.</summary>
    private static async Task<SortedDictionary<string, string>> PosternUsersAsync(string database, IEnumerable<string> usernames)
    {
        var lines = await TestStore.QueryTextsAsync(database, """
            SELECT username || '|' || password || '|' || email || '|' || CAST(is_active AS INTEGER) || '|'
                || CAST(is_staff AS INTEGER) || '|' || CAST(is_superuser AS INTEGER) || '|' || first_name || '|' || last_name || '|'
                || CAST(date_joined AS TEXT) || '|' || COALESCE(CAST(last_login AS TEXT), '')
            FROM users;
            """);
        var wanted = usernames.ToHashSet();
        return Rows(lines, wanted.Contains,
            micros => DateTimeOffset.UnixEpoch.AddTicks(long.Parse(micros, CultureInfo.InvariantCulture) * 10));
    }

    /// <summary>username → the other nine columns, both dates turned into one form by <paramref name="time"/>.</summary>
    private static SortedDictionary<string, string> Rows(IEnumerable<string> lines, Func<string, bool> wanted,
        Func<string, DateTimeOffset> time)
    {
        string Utc(string text) => text.Length == 0 ? "" : time(text).ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        var rows = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var row = line.Split('|');
            Assert.True(row.Length == 10, line);
            if (wanted(row[0]))
                rows[row[0]] = string.Join('|', row[1..8]) + '|' + Utc(row[8]) + '|' + Utc(row[9]);
        }
        return rows;
    }

    /// <summary>Changes a copy of a Django database by hand, as a newer Django or another hasher would have left it.</summary>
    private static async Task ExecuteAsync(string sqliteFile, string sql)
    {
        await using var db = new SqliteConnection($"Data Source={sqliteFile};Pooling=False");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
