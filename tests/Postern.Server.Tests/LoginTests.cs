using System.Net;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

public sealed class LoginTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly PosternTestServer _server = fixture.Server;
    private Visitor NewVisitor() => new(_server.CreateRawClient());

    [Fact]
    public async Task LoginFollowsTheSeed()
    {
        var visitor = NewVisitor();
        await visitor.GetAsync("/auth/csrf");
        var before = visitor.CsrfCookie;

        var response = await visitor.LoginAsync("alice", "alice-password");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Successfully logged in.", response.Detail);
        Assert.Equal("alice", response.Json().GetProperty("username").GetString());
        var session = response.Cookie("sessionid")!;
        Assert.Matches("^[a-z0-9]{32}$", session.Value);
        Assert.True(session.HttpOnly);
        Assert.Equal("1209600", session.MaxAge);
        Assert.Equal("/", session.Path);
        Assert.Equal("Lax", session.SameSite);
        var rotated = response.Cookie("csrftoken")!;
        Assert.Matches("^[A-Za-z0-9]{32}$", rotated.Value);
        Assert.NotEqual(before, rotated.Value);

        var me = await visitor.GetAsync("/auth/user");
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal("alice", me.Json().GetProperty("username").GetString());
        Assert.Equal("alice@example.org", me.Json().GetProperty("email").GetString());
        Assert.True(me.Json().GetProperty("is_staff").GetBoolean());
        // Past the cache: last_login is a write no cached read depends on, so caches need not hear of it (docs/scale-out.md).
        var alice = await _server.Users.FindUserByUsernameAsync("alice");
        Assert.NotNull((await _server.Users.FindUserByIdUncachedAsync(alice!.Id))!.LastLogin);
    }

    [Fact]
    public async Task TheTokenFromBeforeLoginIsRefusedAfterIt()
    {
        var visitor = NewVisitor();
        await visitor.GetAsync("/auth/csrf");
        var oldToken = visitor.CsrfCookie!;
        await visitor.LoginAsync("bob", "bob-password");

        var withOld = await visitor.SendAsync(HttpMethod.Post, "/auth/logout", null, ("X-CSRFToken", oldToken));
        Assert.Equal(HttpStatusCode.Forbidden, withOld.Status);
        Assert.Equal("CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect.", withOld.Detail);

        var withNew = await visitor.PostWithTokenAsync("/auth/logout");
        Assert.Equal(HttpStatusCode.OK, withNew.Status);
    }

    [Theory]
    [InlineData("form")]
    [InlineData("multipart")]
    public async Task FormBodiesLogInToo(string kind)
    {
        var visitor = NewVisitor();
        await visitor.GetAsync("/auth/csrf");
        HttpContent body = kind == "form"
            ? RawHttp.Form(("username", "bob"), ("password", "bob-password"), ("csrfmiddlewaretoken", visitor.CsrfCookie!))
            : new MultipartFormDataContent
            {
                { new StringContent("bob"), "username" },
                { new StringContent("bob-password"), "password" },
                { new StringContent(visitor.CsrfCookie!), "csrfmiddlewaretoken" },
            };
        var response = await visitor.SendAsync(HttpMethod.Post, "/auth/login", body);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.NotNull(response.Cookie("sessionid"));
    }

    [Theory]
    [InlineData("alice", "wrong-password")]
    [InlineData("nobody", "alice-password")]
    [InlineData("user000", "")]
    [InlineData("user000", "anything")]
    public async Task WrongPasswordAndUnknownUserLookTheSame(string username, string password)
    {
        var visitor = NewVisitor();
        var response = await visitor.LoginAsync(username, password);
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("Invalid username or password.", response.Detail);
        Assert.Equal("""{"detail":"Invalid username or password."}""", response.Body);
        Assert.Null(response.Cookie("sessionid"));
        Assert.Null(response.Cookie("csrftoken"));
    }

    [Fact]
    public async Task InactiveUsersCannotLogIn()
    {
        var carol = await _server.CreateUserAsync("carol-inactive", "carol-password");
        await _server.Users.SetActiveAsync(carol.Id, false);
        var response = await NewVisitor().LoginAsync("carol-inactive", "carol-password");
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
    }

    [Theory]
    [InlineData("""{"password": "x"}""")]
    [InlineData("""{"username": "", "password": "x"}""")]
    [InlineData("""{"username": "alice"}""")]
    [InlineData("""{"username": 5, "password": "x"}""")]
    [InlineData("""{}""")]
    public async Task MissingFieldsAreA400(string json)
    {
        var visitor = NewVisitor();
        await visitor.GetAsync("/auth/csrf");
        var response = await visitor.PostWithTokenAsync("/auth/login", RawHttp.Json(json));
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("Both username and password are required.", response.Detail);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1, 2]")]
    [InlineData("\"alice\"")]
    public async Task MalformedJsonIsA400(string json)
    {
        var visitor = NewVisitor();
        await visitor.GetAsync("/auth/csrf");
        var response = await visitor.PostWithTokenAsync("/auth/login", RawHttp.Json(json));
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("Malformed request body.", response.Detail);
    }

    [Fact]
    public async Task PasswordsOverFourThousandNinetySixCharactersAreRefusedUnhashed()
    {
        var response = await NewVisitor().LoginAsync("alice", new string('x', 4097));
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("Ensure the password has no more than 4096 characters.", response.Detail);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    public async Task GetIsA405WithAllow(string method)
    {
        var response = await _server.CreateRawClient().SendAsync(new HttpMethod(method), "/auth/login");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.Status);
        Assert.Equal("POST", response.ContentHeaders.Allow.Single());
    }

    [Fact]
    public async Task TrailingSlashesWork()
    {
        var visitor = NewVisitor();
        await visitor.GetAsync("/auth/csrf/");
        var login = await visitor.PostWithTokenAsync("/auth/login/", RawHttp.Json("""{"username": "bob", "password": "bob-password"}"""));
        Assert.Equal(HttpStatusCode.OK, login.Status);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/user/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/logout/")).Status);
    }

    [Fact]
    public async Task TheDefaultHashIsDjango52sAndOlderHashesAreUpgradedAtLogin()
    {
        await using var server = await PosternTestServer.StartAsync(
            new Dictionary<string, string?> { ["Postern:Accounts:PasswordIterations"] = "1000000" });
        // Made by Django 3.2 (260,000 iterations) for "s3cret-pass".
        const string django32 = "pbkdf2_sha256$260000$abcdefghijklmnopqrstuv$cGVEV4FDNqdFkk9A2c3uxv91PyZiKapE5Yrqy63kVrk=";
        var user = await server.Users.CreateUserAsync(new Storage.NewUser("legacy", "", django32));

        var visitor = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("legacy", "s3cret-pass")).Status);

        var upgraded = (await server.Users.FindUserByIdAsync(user.Id))!.Password;
        Assert.StartsWith("pbkdf2_sha256$1000000$", upgraded, StringComparison.Ordinal);
        Assert.True(DjangoPasswordHash.TryParse(upgraded, out var hash) && hash.Verify("s3cret-pass"));
        // The upgrade re-ties the session it was done in, so that session lives on.
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/user")).Status);
        // New hashes are Django 5.2's.
        var fresh = await server.Accounts.CreateUserAsync("fresh", "fresh-password");
        Assert.StartsWith("pbkdf2_sha256$1000000$", fresh.Password, StringComparison.Ordinal);
    }

    /// <summary>
    /// A wrong password for a user whose hash has fewer iterations than configured (Django 3.2's, or here 1,000) takes
    /// as long as one for an unknown user (Django's harden_runtime), so the time does not pick such usernames out. The
    /// bound is generous (half): without the hardening the ratio is 1,000 / 400,000.
    /// </summary>
    [Fact]
    public async Task AWrongPasswordForAnOlderHashTakesAsLongAsForAnUnknownUser()
    {
        await using var server = await PosternTestServer.StartAsync(
            new Dictionary<string, string?> { ["Postern:Accounts:PasswordIterations"] = "400000" });
        await server.Users.CreateUserAsync(new Storage.NewUser("cheap", "", DjangoPasswordHash.Encode("s3cret-pass", 1000)));

        async Task<double> MillisecondsAsync(string username)
        {
            var visitor = new Visitor(server.CreateRawClient());
            await visitor.GetAsync(EndpointPaths.Csrf);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            Assert.Equal(HttpStatusCode.Unauthorized, (await visitor.LoginAsync(username, "wrong-password")).Status);
            return System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        await MillisecondsAsync("nobody-at-all"); // warm up
        // Alternating, so that the machine's drift (other processes on a shared machine) falls on both alike.
        List<double> unknownTimes = [], cheapTimes = [];
        for (var i = 0; i < 7; i++)
        {
            unknownTimes.Add(await MillisecondsAsync("nobody-at-all"));
            cheapTimes.Add(await MillisecondsAsync("cheap"));
        }
        var unknown = unknownTimes.Order().ElementAt(unknownTimes.Count / 2);
        var cheap = cheapTimes.Order().ElementAt(cheapTimes.Count / 2);
        Assert.True(cheap > unknown / 2, $"a wrong password for the 1,000-iteration hash took {cheap:F1} ms, for an unknown user {unknown:F1} ms");
    }

    [Fact]
    public async Task HashesFromTheModernDjangoPeerVerify()
    {
        // Made by Django 5.2 (1,000,000 iterations) for "s3cret-pass".
        const string django52 = "pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$OKSG6WDpemIRA42KjbVb4PyALogkZiELHx9o6E9KvXI=";
        await _server.Users.CreateUserAsync(new Storage.NewUser("from-django52", "", django52));
        Assert.Equal(HttpStatusCode.OK, (await NewVisitor().LoginAsync("from-django52", "s3cret-pass")).Status);
    }
}
