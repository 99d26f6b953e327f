using System.Net;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>Fixation, logout, expiry, and everything that ends a session server-side.</summary>
public sealed class SessionLifecycleTests(ServerFixture fixture) : IClassFixture<ServerFixture>
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
    public async Task APlantedSessionKeyIsReplacedAtLogin()
    {
        // Session fixation: the attacker plants a key, the victim logs in, the attacker uses the key.
        var (attacker, _) = await SignedInAsync("fixation-attacker");
        var plantedKey = attacker.SessionCookie!;
        var victim = NewVisitor();
        victim.Jar[CookieNames.Session] = plantedKey;

        var login = await victim.LoginAsync("bob", "bob-password");

        Assert.NotEqual(plantedKey, login.Cookie("sessionid")!.Value);
        var attackerNow = await attacker.GetAsync("/auth/user");
        Assert.Equal(HttpStatusCode.Forbidden, attackerNow.Status);
    }

    [Fact]
    public async Task LoggingInAgainIssuesANewKeyAndEndsTheOldSession()
    {
        var (visitor, userId) = await SignedInAsync("relogin");
        var first = visitor.SessionCookie!;
        await visitor.LoginAsync("relogin", "pw-12345678");
        Assert.NotEqual(first, visitor.SessionCookie);
        var live = await _server.Sessions.ListLiveSessionsOfUserAsync(userId, DateTimeOffset.UtcNow);
        Assert.Equal([visitor.SessionCookie], live.Select(s => s.Key));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task LogoutEndsTheSessionServerSideAndExpiresTheCookie(string method)
    {
        var (visitor, userId) = await SignedInAsync("logout-" + method);
        var key = visitor.SessionCookie!;
        var response = method == "GET" ? await visitor.GetAsync("/auth/logout") : await visitor.PostWithTokenAsync("/auth/logout");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Successfully logged out.", response.Detail);
        var deletion = response.Cookie("sessionid")!;
        Assert.True(deletion.IsDeletion);
        Assert.Equal("sessionid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax", deletion.Raw);
        Assert.Empty(await _server.Sessions.ListLiveSessionsOfUserAsync(userId, DateTimeOffset.UtcNow));
        // The CSRF cookie survives logout, as in Django.
        Assert.Null(response.Cookie("csrftoken"));

        // Replaying the old cookie does not bring the session back.
        var replay = await _server.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user", [("Cookie", $"sessionid={key}")]);
        Assert.Equal(HttpStatusCode.Forbidden, replay.Status);
    }

    [Fact]
    public async Task LogoutWithoutASessionIsFine()
    {
        var response = await _server.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/logout");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Empty(response.Cookies);
    }

    [Fact]
    public async Task AStaleSessionCookieIsExpired()
    {
        var response = await _server.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user",
            [("Cookie", "sessionid=doesnotexist1234567890abcdefghij")]);
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("Authentication credentials were not provided.", response.Detail);
        Assert.True(response.Cookie("sessionid")!.IsDeletion);
    }

    [Fact]
    public async Task AnExpiredSessionIsRefusedAndPurged()
    {
        var (visitor, userId) = await SignedInAsync("expiring");
        await _server.ExecuteSqlAsync("UPDATE sessions SET expires_at = 1 WHERE user_id = @userId", ("@userId", userId));
        var response = await visitor.GetAsync("/auth/user");
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Null(visitor.SessionCookie);

        Assert.True(await _server.Sessions.DeleteExpiredSessionsAsync(DateTimeOffset.UtcNow) >= 1);
    }

    [Fact]
    public async Task SessionsExpireAfterTheConfiguredAge()
    {
        await using var server = await PosternTestServer.StartAsync(
            new Dictionary<string, string?> { ["Postern:Sessions:AgeSeconds"] = "3600" });
        await server.CreateUserAsync("short-lived", "pw-12345678");
        var visitor = new Visitor(server.CreateRawClient());
        var login = await visitor.LoginAsync("short-lived", "pw-12345678");
        Assert.Equal("3600", login.Cookie("sessionid")!.MaxAge);
        var session = Assert.Single(await server.Sessions.ListLiveSessionsOfUserAsync(
            (await server.Users.FindUserByUsernameAsync("short-lived"))!.Id, DateTimeOffset.UtcNow));
        Assert.InRange((session.ExpiresAt - session.CreatedAt).TotalSeconds, 3599, 3601);
        Assert.Empty(await server.Sessions.ListLiveSessionsOfUserAsync(session.UserId, DateTimeOffset.UtcNow.AddSeconds(3601)));
    }

    [Fact]
    public async Task APasswordChangeEndsEveryOtherSession()
    {
        var (laptop, userId) = await SignedInAsync("changer");
        var (phone, _) = await SignedInAsync("changer");
        var user = (await _server.Users.FindUserByIdAsync(userId))!;

        await _server.Accounts.ChangePasswordAsync(user, "a-new-password", keepSessionKey: laptop.SessionCookie);

        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/auth/user")).Status);
        var refused = await phone.GetAsync("/auth/user");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.True(refused.Cookie("sessionid")!.IsDeletion);
    }

    [Fact]
    public async Task APasswordChangedBehindPosternsBackStillEndsSessions()
    {
        // The session auth hash: even a password written straight into the database kills old sessions.
        var (visitor, userId) = await SignedInAsync("rewritten");
        await _server.ExecuteSqlAsync("UPDATE users SET password = @password WHERE id = @userId",
            ("@password", DjangoPasswordHash.Encode("other", 1000)), ("@userId", userId));
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task DeactivationEndsSessions()
    {
        var (visitor, userId) = await SignedInAsync("deactivated");
        await _server.Users.SetActiveAsync(userId, false);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task DeletionEndsSessions()
    {
        var (visitor, userId) = await SignedInAsync("deleted");
        await _server.Users.DeleteUserAsync(userId);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync("/auth/user")).Status);
        Assert.Empty(await _server.Sessions.ListLiveSessionsOfUserAsync(userId, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task TwoVisitorsNeverShareASession()
    {
        var (alice, _) = await SignedInAsync("alice", "alice-password");
        var (bob, _) = await SignedInAsync("bob", "bob-password");
        Assert.NotEqual(alice.SessionCookie, bob.SessionCookie);
        Assert.Equal("alice", (await alice.GetAsync("/auth/user")).Json().GetProperty("username").GetString());
        Assert.Equal("bob", (await bob.GetAsync("/auth/user")).Json().GetProperty("username").GetString());
    }

    [Fact]
    public async Task LogoutByGetCanBeTurnedOff()
    {
        await using var server = await PosternTestServer.StartAsync(
            new Dictionary<string, string?> { ["Postern:Accounts:LogoutAllowsGet"] = "false" });
        var response = await server.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/logout");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.Status);
        Assert.Equal("POST", response.ContentHeaders.Allow.Single());
    }

    [Fact]
    public async Task TheSecretKeyIsKeptInTheDatabaseSoEveryInstanceAgrees()
    {
        // Two servers on one database: a session opened on one is valid on the other.
        var (visitor, _) = await SignedInAsync("two-instances");
        await using var second = await PosternTestServer.StartAsync(folder: null, databasePath: _server.DatabasePath);
        var response = await second.CreateRawClient().SendAsync(HttpMethod.Get, "/auth/user",
            [("Cookie", $"sessionid={visitor.SessionCookie}")]);
        Assert.Equal(HttpStatusCode.OK, response.Status);
    }
}
