using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Server.Storage;
using Postern.Testing;

using static Postern.Differential.Tests.SeedClient;

namespace Postern.Differential.Tests;

/// <summary>
/// Both Django reference backends (5.2 and 3.2), each running on a database of its own (a SQLite file, or with
/// <c>POSTERN_TEST_STORE=postgres</c> a PostgreSQL database in the tests' cluster), which Postern then shares with it
/// (<c>--schema django</c>), as a team putting Postern in front of its Django project runs them.
/// </summary>
public class SharedDjangoDatabases : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("postern-beside-django-").FullName;
    private readonly Dictionary<PeerKind, (DjangoPeer Peer, string Database)> _peers = [];
    private readonly Dictionary<string, string>? _djangoEnvironment;
    private readonly string? _userTable;

    public SharedDjangoDatabases()
    {
    }

    /// <param name="djangoEnvironment">The reference backends' settings (tests/django-backend/backend/settings.py).</param>
    /// <param name="userTable">Postern:Django:UserTable, for a project with a user model of its own.</param>
    protected SharedDjangoDatabases(Dictionary<string, string> djangoEnvironment, string userTable)
    {
        _djangoEnvironment = djangoEnvironment;
        _userTable = userTable;
    }

    public string DatabaseOf(PeerKind kind) => _peers[kind].Database;

    public DjangoPeer this[PeerKind kind] => _peers[kind].Peer;

    public async Task InitializeAsync()
    {
        var starting = new[] { PeerKind.Modern, PeerKind.Legacy }.Select(async kind =>
        {
            var database = await TestStore.NewDatabaseAsync(_folder, kind.ToString());
            return (kind, await DjangoPeer.StartAsync(kind, _djangoEnvironment, database), database);
        }).ToList();
        foreach (var (kind, peer, database) in await Task.WhenAll(starting))
            _peers[kind] = (peer, database);
    }

    /// <summary>
    /// Postern on the Django project's database: Django's SECRET_KEY, and Django's own iteration count for the passwords it
    /// sets, so that a login on Django does not re-hash them (which would end the user's other sessions, on Django as here).
    /// </summary>
    public Task<PosternTestServer> StartPosternAsync(PeerKind kind, IDictionary<string, string?>? settings = null)
    {
        var beside = new Dictionary<string, string?>
        {
            ["Postern:Storage:Schema"] = "Django",
            ["Postern:SecretKey"] = DjangoDatabases.SecretKey,
            ["Postern:Accounts:PasswordIterations"] = (kind == PeerKind.Modern ? DjangoPasswordHash.Django52Iterations : 260_000)
                .ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (_userTable is not null)
            beside["Postern:Django:UserTable"] = _userTable;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            beside[key] = value;
        return PosternTestServer.StartAsync(beside, databasePath: DatabaseOf(kind));
    }

    public async Task DisposeAsync()
    {
        foreach (var (peer, _) in _peers.Values)
            await peer.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>
/// Both Django reference backends with a user model of the project's own (<c>AUTH_USER_MODEL = "customuser.User"</c>:
/// AbstractUser's columns and one more, in <c>customuser_user</c>), as Django's documentation tells new projects to start.
/// </summary>
public sealed class CustomUserDjangoDatabases() : SharedDjangoDatabases(
    new Dictionary<string, string> { ["DJANGO_BACKEND_CUSTOM_USER"] = "1" }, CustomUserDjangoDatabases.UserTable)
{
    public const string UserTable = "customuser_user";
}

/// <summary>
/// Postern beside a running Django on one database: Django's users, groups and sessions are Postern's and the other way
/// round, and a logout or a password change on either side ends the session on both, at once.
/// </summary>
public sealed class BesideDjangoTests(SharedDjangoDatabases django) : IClassFixture<SharedDjangoDatabases>
{
    public static TheoryData<PeerKind> Kinds => [PeerKind.Modern, PeerKind.Legacy];

    private static int s_users;

    /// <summary>A user of this test's own, made by Postern in Django's table (tests share each Django's database).</summary>
    internal static async Task<(string Name, string Password)> NewUserAsync(PosternTestServer postern, string prefix, bool staff = false)
    {
        var name = $"{prefix}{Interlocked.Increment(ref s_users)}";
        var password = $"{name}-Passw0rd!";
        await postern.CreateUserAsync(name, password, staff);
        return (name, password);
    }

    internal static async Task<string?> WhoIsAsync(HttpClient client, CookieJar jar)
    {
        var response = await SendAsync(client, jar, HttpMethod.Get, EndpointPaths.User);
        return response.Status == HttpStatusCode.OK ? response.Json().GetProperty("username").GetString() : null;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ASessionOpenedOnEitherSideIsSignedInOnTheOther(PeerKind kind)
    {
        await using var postern = await django.StartPosternAsync(kind);
        using var onDjango = django[kind].CreateRawClient();
        using var onPostern = postern.CreateRawClient();
        var (name, password) = await NewUserAsync(postern, "both");

        var djangoSession = await LogInAsync(onDjango, name, password);
        Assert.Equal(name, await WhoIsAsync(onPostern, djangoSession));
        var posternSession = await LogInAsync(onPostern, name, password);
        Assert.Equal(name, await WhoIsAsync(onDjango, posternSession));
        Assert.Equal(name, await WhoIsAsync(onDjango, djangoSession));
        Assert.Equal(name, await WhoIsAsync(onPostern, posternSession));

        // The row is Django's own: its data is Django's signed JSON, which names the user and the backend as Django does.
        var key = posternSession[CookieNames.Session]!;
        Assert.Equal(1, await TestStore.QueryInt64Async(postern.DatabasePath,
            "SELECT COUNT(*) FROM django_session WHERE session_key = @key;", ("@key", key)));
        // A session Django opened is listed among the user's sessions once Postern has seen it.
        var sessions = await postern.Sessions.ListLiveSessionsOfUserAsync(
            (await postern.Users.FindUserByUsernameAsync(name))!.Id, DateTimeOffset.UtcNow);
        Assert.Contains(sessions, s => s.Key == djangoSession[CookieNames.Session]);
        Assert.Contains(sessions, s => s.Key == key);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ALogoutOnEitherSideEndsTheSessionOnBoth(PeerKind kind)
    {
        await using var postern = await django.StartPosternAsync(kind);
        using var onDjango = django[kind].CreateRawClient();
        using var onPostern = postern.CreateRawClient();
        var (name, password) = await NewUserAsync(postern, "logout");

        var openedOnDjango = await LogInAsync(onDjango, name, password);
        Assert.Equal(name, await WhoIsAsync(onPostern, openedOnDjango)); // now in Postern's cache, too
        await SendAsync(onPostern, openedOnDjango, HttpMethod.Get, EndpointPaths.Logout);
        Assert.Null(await WhoIsAsync(onDjango, openedOnDjango));

        var openedOnPostern = await LogInAsync(onPostern, name, password);
        Assert.Equal(name, await WhoIsAsync(onPostern, openedOnPostern));
        await SendAsync(onDjango, openedOnPostern, HttpMethod.Get, EndpointPaths.Logout);
        Assert.Null(await WhoIsAsync(onPostern, openedOnPostern));
        Assert.Equal(0, await TestStore.QueryInt64Async(postern.DatabasePath,
            "SELECT COUNT(*) FROM django_session WHERE session_key = @key;", ("@key", openedOnPostern[CookieNames.Session] ?? "")));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task APasswordChangeOnEitherSideEndsTheOtherSessionsAndKeepsTheOneThatAsked(PeerKind kind)
    {
        await using var postern = await django.StartPosternAsync(kind);
        using var onDjango = django[kind].CreateRawClient();
        using var onPostern = postern.CreateRawClient();
        var (name, password) = await NewUserAsync(postern, "change");

        // On Django, through its API: the session that asked goes on (update_session_auth_hash), Postern's ends.
        var asking = await LogInAsync(onDjango, name, password);
        var other = await LogInAsync(onPostern, name, password);
        Assert.Equal(name, await WhoIsAsync(onPostern, other));
        var changed = await SendAsync(onDjango, asking, HttpMethod.Post, "/auth/password/change",
            $$"""{"old_password": "{{password}}", "new_password1": "Changed-On-Django-1", "new_password2": "Changed-On-Django-1"}""");
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.Null(await WhoIsAsync(onPostern, other));
        Assert.Equal(name, await WhoIsAsync(onPostern, asking));
        Assert.Equal(name, await WhoIsAsync(onDjango, asking));

        // On Postern: the same, the other way round; the session that asked is re-signed in Django's row, which Django reads.
        var djangoSession = await LogInAsync(onDjango, name, "Changed-On-Django-1");
        var posternSession = await LogInAsync(onPostern, name, "Changed-On-Django-1");
        changed = await SendAsync(onPostern, posternSession, HttpMethod.Post, EndpointPaths.PasswordChange,
            """{"old_password": "Changed-On-Django-1", "new_password1": "Changed-On-Postern-2", "new_password2": "Changed-On-Postern-2"}""");
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.Null(await WhoIsAsync(onDjango, djangoSession));
        Assert.Null(await WhoIsAsync(onDjango, asking));
        Assert.Equal(name, await WhoIsAsync(onDjango, posternSession));
        Assert.Equal(name, await WhoIsAsync(onPostern, posternSession));
        // The new password is Django's too.
        Assert.Equal(HttpStatusCode.OK, (await LogInOnAsync(onDjango, name, "Changed-On-Postern-2")).Status);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ASetPasswordByAnOperatorOnDjangoEndsPosternsSessionsAtOnce(PeerKind kind)
    {
        await using var postern = await django.StartPosternAsync(kind);
        using var onPostern = postern.CreateRawClient();
        var (name, password) = await NewUserAsync(postern, "operator");
        var session = await LogInAsync(onPostern, name, password);
        Assert.Equal(name, await WhoIsAsync(onPostern, session));

        // manage.py changepassword's write (set_password, save), made by Django's own code on its own connection.
        var shell = await django[kind].ManageAsync("shell", "-c",
            $"from django.contrib.auth.models import User; u = User.objects.get(username='{name}'); u.set_password('Set-By-Operator-3'); u.save()");
        Assert.True(shell.ExitCode == 0, shell.ToString());
        Assert.Null(await WhoIsAsync(onPostern, session));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task UsersAndGroupsWrittenByEitherSideAreReadByTheOther(PeerKind kind)
    {
        await using var postern = await django.StartPosternAsync(kind);
        using var onDjango = django[kind].CreateRawClient();
        using var onPostern = postern.CreateRawClient();
        var (staffName, staffPassword) = await NewUserAsync(postern, "staff", staff: true);
        var onPosternAsStaff = await LogInAsync(onPostern, staffName, staffPassword);
        var onDjangoAsStaff = await LogInAsync(onDjango, staffName, staffPassword);

        // A group and a user made through Postern's API, read through Django's.
        var group = await SendAsync(onPostern, onPosternAsStaff, HttpMethod.Post, "/api/groups/", $$"""{"name": "made-on-postern-{{kind}}"}""");
        Assert.Equal(HttpStatusCode.Created, group.Status);
        var groupPath = new Uri(group.Json().GetProperty("url").GetString()!).AbsolutePath;
        var onDjangoGroup = await SendAsync(onDjango, onDjangoAsStaff, HttpMethod.Get, groupPath);
        Assert.Equal($"made-on-postern-{kind}", onDjangoGroup.Json().GetProperty("name").GetString());
        var (memberName, _) = await NewUserAsync(postern, "member");
        var member = (await postern.Users.FindUserByUsernameAsync(memberName))!;
        var joined = await SendAsync(onPostern, onPosternAsStaff, HttpMethod.Patch, $"/api/users/{member.Id}/",
            $$"""{"groups": ["{{group.Json().GetProperty("url").GetString()}}"]}""");
        Assert.Equal(HttpStatusCode.OK, joined.Status);
        var onDjangoMember = (await SendAsync(onDjango, onDjangoAsStaff, HttpMethod.Get, $"/api/users/{member.Id}/")).Json();
        Assert.Equal(memberName, onDjangoMember.GetProperty("username").GetString());
        Assert.EndsWith(groupPath, Assert.Single(onDjangoMember.GetProperty("groups").EnumerateArray()).GetString(), StringComparison.Ordinal);

        // A change made through Django's API, read through Postern's at once (its cache sees Django's commit).
        Assert.Equal(memberName, (await SendAsync(onPostern, onPosternAsStaff, HttpMethod.Get, $"/api/users/{member.Id}/")).Json()
            .GetProperty("username").GetString());
        var renamed = await SendAsync(onDjango, onDjangoAsStaff, HttpMethod.Patch, $"/api/users/{member.Id}/",
            $$"""{"email": "renamed-on-django@example.org"}""");
        Assert.Equal(HttpStatusCode.OK, renamed.Status);
        Assert.Equal("renamed-on-django@example.org", (await SendAsync(onPostern, onPosternAsStaff, HttpMethod.Get, $"/api/users/{member.Id}/"))
            .Json().GetProperty("email").GetString());
        // Django's date_joined as Postern wrote it: Django's own form (timestamptz, or SQLite's text), the time it was.
        var joinedAt = DateTimeOffset.Parse(Assert.Single(await TestStore.QueryTextsAsync(postern.DatabasePath,
                "SELECT date_joined FROM auth_user WHERE id = @id;", ("@id", member.Id))),
            System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
        Assert.InRange(joinedAt, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ATokenOfDjangoRestFrameworksOwnWorksOnPosternUntilDjangoRegeneratesIt(PeerKind kind)
    {
        await using var postern = await django.StartPosternAsync(kind);
        using var onPostern = postern.CreateRawClient();
        var (name, _) = await NewUserAsync(postern, "token");

        async Task<string> CreateTokenAsync(params string[] options)
        {
            var created = await django[kind].ManageAsync(["drf_create_token", .. options, name]);
            Assert.True(created.ExitCode == 0, created.ToString());
            return System.Text.RegularExpressions.Regex.Match(created.Stdout, "Generated token ([0-9a-f]{40}) for user").Groups[1].Value;
        }
        async Task<RawResponse> WhoAmIAsync(string key) =>
            await onPostern.SendAsync(HttpMethod.Get, EndpointPaths.User, [("Authorization", ApiToken.HeaderValue(key))]);

        var key = await CreateTokenAsync();
        var signedIn = await WhoAmIAsync(key);
        Assert.Equal(HttpStatusCode.OK, signedIn.Status);
        Assert.Equal(name, signedIn.Json().GetProperty("username").GetString());
        // Regenerated on Django (the old row deleted, a new one made): the old key stops at once, the new one works.
        var regenerated = await CreateTokenAsync("-r");
        Assert.Equal(HttpStatusCode.Unauthorized, (await WhoAmIAsync(key)).Status);
        Assert.Equal(HttpStatusCode.OK, (await WhoAmIAsync(regenerated)).Status);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task DeletingAUserDeletesWhatDjangosOwnAppsWouldAndRefusesWhenAnotherAppsRowsReferToIt(PeerKind kind)
    {
        await using var postern = await django.StartPosternAsync(kind);
        using var onPostern = postern.CreateRawClient();
        var (staffName, staffPassword) = await NewUserAsync(postern, "deleter", staff: true);
        var staff = await LogInAsync(onPostern, staffName, staffPassword);
        var (name, _) = await NewUserAsync(postern, "deleted");
        var user = (await postern.Users.FindUserByUsernameAsync(name))!;
        var group = await postern.Services.GetRequiredService<IGroupStore>().CreateGroupAsync($"of-{name}");
        await postern.Services.GetRequiredService<IGroupStore>().AddUserToGroupAsync(user.Id, group.Id);
        var token = await django[kind].ManageAsync("drf_create_token", name);
        Assert.True(token.ExitCode == 0, token.ToString());

        // A row of the project's own app (the reference backend's accounts app) refers to the user: refused, nothing deleted.
        await TestStore.ExecuteAsync(postern.DatabasePath,
            "INSERT INTO accounts_emailverification (user_id, email, verified_at) VALUES (@id, 'x@example.org', CURRENT_TIMESTAMP);",
            ("@id", user.Id));
        var refused = await SendAsync(onPostern, staff, HttpMethod.Delete, $"/api/users/{user.Id}/");
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Contains("delete the user in Django's admin", refused.Json().GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(await postern.Users.FindUserByIdUncachedAsync(user.Id));
        Assert.Equal(1, await TestStore.QueryInt64Async(postern.DatabasePath,
            "SELECT COUNT(*) FROM auth_user_groups WHERE user_id = @id;", ("@id", user.Id)));

        // Without it: the user goes, with the memberships and the DRF token that Django would have deleted with it.
        await TestStore.ExecuteAsync(postern.DatabasePath, "DELETE FROM accounts_emailverification WHERE user_id = @id;", ("@id", user.Id));
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(onPostern, staff, HttpMethod.Delete, $"/api/users/{user.Id}/")).Status);
        foreach (var table in new[] { "auth_user", "auth_user_groups", "authtoken_token" })
        {
            Assert.Equal(0, await TestStore.QueryInt64Async(postern.DatabasePath,
                $"SELECT COUNT(*) FROM {table} WHERE {(table == "auth_user" ? "id" : "user_id")} = @id;", ("@id", user.Id)));
        }
    }

    /// <summary>
    /// deploy/with-django: Debian's nginx with the repository's template in front of both, on one origin. A session opened by
    /// Postern at /auth/login is signed in on the project's own pages, which Django serves; logging out at /auth/logout ends it there.
    /// </summary>
    [Fact]
    public async Task BehindNginxPosternServesItsPathsAndDjangoEveryOtherOneWithTheSameSession()
    {
        await using var postern = await django.StartPosternAsync(PeerKind.Modern);
        await using var nginx = await NginxProxy.StartAsync(new NginxProxyOptions
        {
            Upstreams = [postern.BaseAddress],
            DjangoUpstreams = [django[PeerKind.Modern].BaseAddress],
            Tls = false,
        });
        using var site = nginx.CreateRawClient();
        var (name, password) = await NewUserAsync(postern, "nginx");

        var anonymous = await site.SendAsync(HttpMethod.Get, "/pages/whoami");
        Assert.Contains("Not signed in.", anonymous.Body, StringComparison.Ordinal);
        var session = await LogInAsync(site, name, password);
        // Postern answered /auth/ (its JSON is compact; Django's JsonResponse puts a space after each colon), Django the page.
        Assert.Contains($"\"username\":\"{name}\"", (await SendAsync(site, session, HttpMethod.Get, EndpointPaths.User)).Body,
            StringComparison.Ordinal);
        var page = await SendAsync(site, session, HttpMethod.Get, "/pages/whoami");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains($"Signed in as {name}.", page.Body, StringComparison.Ordinal);
        await SendAsync(site, session, HttpMethod.Get, EndpointPaths.Logout);
        Assert.Contains("Not signed in.", (await SendAsync(site, session, HttpMethod.Get, "/pages/whoami")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADatabaseThatIsNotDjangosAnUnknownMigrationStateOrNoSecretKeyIsRefusedWithOneLine()
    {
        var folder = Directory.CreateTempSubdirectory("postern-beside-django-refused-").FullName;
        try
        {
            var env = new Dictionary<string, string?> { ["Postern__SecretKey"] = DjangoDatabases.SecretKey };
            // Postern's own database has none of Django's tables.
            var own = Path.Combine(folder, "own.sqlite3");
            Assert.Equal(0, (await PosternProcess.RunAsync(folder, ["migrate", "--db", own])).ExitCode);
            var notDjango = await PosternProcess.RunAsync(folder, ["migrate", "--schema", "django", "--db", own], environment: env);
            Assert.Equal(1, notDjango.ExitCode);
            Assert.Contains("is not a Django project's database (no django_migrations", notDjango.Stderr, StringComparison.Ordinal);

            // A migration of a Django this Postern does not know (taken out again: the other tests share the database).
            var modern = django.DatabaseOf(PeerKind.Modern);
            await TestStore.ExecuteAsync(modern,
                "INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0013_from_the_future', CURRENT_TIMESTAMP);");
            CommandResult unknown;
            try
            {
                unknown = await PosternProcess.RunAsync(folder, ["serve", "--schema", "django", "--db", modern, "--urls", "http://127.0.0.1:0"],
                    environment: env);
            }
            finally
            {
                await TestStore.ExecuteAsync(modern, "DELETE FROM django_migrations WHERE name = '0013_from_the_future';");
            }
            Assert.Equal(1, unknown.ExitCode);
            Assert.Contains("Django's migration auth.0013_from_the_future is not one Postern knows", unknown.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", unknown.Stderr, StringComparison.Ordinal);

            // A custom user table without AbstractUser's columns.
            var custom = await PosternProcess.RunAsync(folder, ["migrate", "--schema", "django", "--db", modern],
                environment: new Dictionary<string, string?>(env) { ["Postern__Django__UserTable"] = "auth_group" });
            Assert.Equal(1, custom.ExitCode);
            Assert.Contains("does not have the columns of Django's AbstractUser", custom.Stderr, StringComparison.Ordinal);

            // Without Django's SECRET_KEY, Postern would sign sessions Django cannot read.
            var keyless = await PosternProcess.RunAsync(folder, ["migrate", "--db", modern],
                environment: new Dictionary<string, string?> { ["POSTERN_SCHEMA"] = "django" });
            Assert.Equal(1, keyless.ExitCode);
            Assert.Contains("must be the Django project's SECRET_KEY", keyless.Stderr, StringComparison.Ordinal);

            // Nothing of Django's was changed by any of it: the same tables, Postern's own prefixed.
            var tables = (await TestStore.TablesAsync(modern)).Where(table => !table.StartsWith("postern_", StringComparison.Ordinal)
                && !table.StartsWith("sqlite_", StringComparison.Ordinal)).Except(
                [
                    "auth_group", "auth_group_permissions", "auth_permission", "auth_user", "auth_user_groups", "auth_user_user_permissions",
                    "django_content_type", "django_migrations", "django_session", "accounts_emailverification", "authtoken_token",
                ]).Count();
            Assert.Equal(0, tables);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
