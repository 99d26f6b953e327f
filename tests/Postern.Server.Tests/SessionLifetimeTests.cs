using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// Postern:Sessions:SlidingExpiration (Django's SESSION_SAVE_EVERY_REQUEST, written at most once a minute) and
/// ExpireAtBrowserClose (SESSION_EXPIRE_AT_BROWSER_CLOSE), on a real server whose clock the test moves.
/// </summary>
public sealed class SessionLifetimeTests
{
    private const int AgeSeconds = 600;

    /// <summary>A clock the test moves by hand; everything in the server that asks the time asks it.</summary>
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static async Task<(PosternTestServer Server, ManualClock Clock)> StartAsync(params (string Key, string Value)[] settings)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var overrides = settings.ToDictionary(s => s.Key, s => (string?)s.Value);
        overrides["Postern:Sessions:AgeSeconds"] = AgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var server = await PosternTestServer.StartAsync(overrides, services: s => s.AddSingleton<TimeProvider>(clock));
        await server.CreateUserAsync("alice", "alice-password");
        return (server, clock);
    }

    private static Task<long> StoredExpiryAsync(PosternTestServer server, string key) =>
        TestStore.QueryInt64Async(server.DatabasePath, "SELECT expires_at FROM sessions WHERE session_key = @key;", ("@key", key));

    /// <summary>
    /// Postern:Sessions:MaxPerUser: once a login takes a user a tenth beyond the bound, the oldest sessions end, down to
    /// the bound; the newest live on.
    /// </summary>
    [Fact]
    public async Task ALoginBeyondTheBoundEndsTheOldestSessions()
    {
        var (server, clock) = await StartAsync(("Postern:Sessions:MaxPerUser", "5"));
        await using var _ = server;
        var visitors = new List<Visitor>();
        for (var i = 0; i < 6; i++)
        {
            clock.Now += TimeSpan.FromSeconds(1);
            var visitor = new Visitor(server.CreateRawClient());
            Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("alice", "alice-password")).Status);
            visitors.Add(visitor);
        }
        // Six: within a tenth (at least one) beyond five, nothing ends yet.
        foreach (var visitor in visitors)
            Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync(EndpointPaths.User)).Status);

        clock.Now += TimeSpan.FromSeconds(1);
        var seventh = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await seventh.LoginAsync("alice", "alice-password")).Status);
        visitors.Add(seventh);
        var answers = new List<HttpStatusCode>();
        foreach (var visitor in visitors)
            answers.Add((await visitor.GetAsync(EndpointPaths.User)).Status);
        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, .. Enumerable.Repeat(HttpStatusCode.OK, 5)], answers);
        Assert.Equal(5, (await seventh.GetAsync("/api/sessions/")).Json().GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task ByDefaultASessionKeepsTheExpiryItWasGivenAtLogin()
    {
        var (server, clock) = await StartAsync();
        await using var _ = server;
        var visitor = new Visitor(server.CreateRawClient());
        var login = await visitor.LoginAsync("alice", "alice-password");
        Assert.Equal(AgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), login.Cookie(CookieNames.Session)!.MaxAge);
        var key = visitor.SessionCookie!;
        var expiry = await StoredExpiryAsync(server, key);

        clock.Now += TimeSpan.FromSeconds(AgeSeconds - 5);
        var used = await visitor.GetAsync(EndpointPaths.User);
        Assert.Equal(HttpStatusCode.OK, used.Status);
        Assert.Null(used.Cookie(CookieNames.Session));
        Assert.Equal(expiry, await StoredExpiryAsync(server, key));

        clock.Now += TimeSpan.FromSeconds(10);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync(EndpointPaths.User)).Status);
    }

    [Fact]
    public async Task SlidingExpirationMovesTheExpiryWithUseAtMostOnceAMinute()
    {
        var (server, clock) = await StartAsync(("Postern:Sessions:SlidingExpiration", "true"));
        await using var _ = server;
        var visitor = new Visitor(server.CreateRawClient());
        await visitor.LoginAsync("alice", "alice-password");
        var key = visitor.SessionCookie!;
        var atLogin = await StoredExpiryAsync(server, key);

        // Within a minute of the last write: nothing is written, no cookie is sent.
        clock.Now += TimeSpan.FromSeconds(30);
        var soon = await visitor.GetAsync(EndpointPaths.User);
        Assert.Equal(HttpStatusCode.OK, soon.Status);
        Assert.Null(soon.Cookie(CookieNames.Session));
        Assert.Equal(atLogin, await StoredExpiryAsync(server, key));

        // Later: the expiry moves to a full age from now, in the database and in a re-sent cookie of the same key.
        clock.Now += TimeSpan.FromSeconds(60);
        var later = await visitor.GetAsync(EndpointPaths.User);
        Assert.Equal(HttpStatusCode.OK, later.Status);
        var resent = later.Cookie(CookieNames.Session);
        Assert.NotNull(resent);
        Assert.Equal(key, resent.Value);
        Assert.Equal(AgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), resent.MaxAge);
        Assert.Equal(atLogin + 90_000_000, await StoredExpiryAsync(server, key));

        // Past the expiry given at login, the session lives on because it was used; left alone for a full age, it ends.
        clock.Now += TimeSpan.FromSeconds(AgeSeconds - 30);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync(EndpointPaths.User)).Status);
        clock.Now += TimeSpan.FromSeconds(AgeSeconds + 1);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync(EndpointPaths.User)).Status);
    }

    [Fact]
    public async Task ExpireAtBrowserCloseSendsASessionCookieWhileTheServerStillEndsItAfterItsAge()
    {
        var (server, clock) = await StartAsync(("Postern:Sessions:ExpireAtBrowserClose", "true"));
        await using var _ = server;
        var visitor = new Visitor(server.CreateRawClient());
        var login = await visitor.LoginAsync("alice", "alice-password");
        var cookie = login.Cookie(CookieNames.Session)!;
        Assert.Null(cookie.MaxAge);
        Assert.False(cookie.Attributes.ContainsKey("expires"), cookie.Raw);
        Assert.True(cookie.HttpOnly);

        clock.Now += TimeSpan.FromSeconds(AgeSeconds + 1);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync(EndpointPaths.User)).Status);
    }
}
