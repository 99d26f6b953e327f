using System.Net;
using System.Text.Json;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Client.Tests;

/// <summary>
/// Backends that guard their logins: Postern with its lockout on (three failures lock an account) and a short
/// reauthentication window, the newest django-allauth with its own rate limits, and a site whose logout keeps the
/// session (a fault built on purpose).
/// </summary>
public sealed class GuardedBackends : IAsyncLifetime
{
    public PosternTestServer Postern { get; private set; } = null!;
    public AllauthPeer RateLimitedAllauth { get; private set; } = null!;
    public SessionKeepingSite KeepingSite { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var allauth = AllauthPeer.StartAsync(AllauthRelease.Newest, rateLimits: true);
        Postern = await GuardedPostern.StartAsync();
        KeepingSite = await SessionKeepingSite.StartAsync();
        RateLimitedAllauth = await allauth;
    }

    public async Task DisposeAsync()
    {
        await Postern.DisposeAsync();
        await KeepingSite.DisposeAsync();
        await RateLimitedAllauth.DisposeAsync();
    }
}

/// <summary>What the library does when a backend asks for more than a password, or refuses for a while.</summary>
public sealed class GuardedLoginTests(GuardedBackends backends) : IClassFixture<GuardedBackends>
{
    private const string HeadlessApi = "/_allauth/browser/v1/";

    [Fact]
    public async Task PosternsTwoFactorLoginPendsUntilTheCodeOrAsksTheProvider()
    {
        var user = await TwoFactorUser.CreateAsync(backends.Postern, "client-mfa");
        var (username, password) = (user.Username, user.Password);
        var now = DateTimeOffset.UtcNow;

        using var pending = new PosternSession(backends.Postern.BaseAddress);
        var required = await Assert.ThrowsAsync<TwoFactorRequiredException>(() => pending.LoginAsync(username, password));
        Assert.Equal(HttpStatusCode.Unauthorized, required.Status);
        Assert.StartsWith("POST " + backends.Postern.BaseAddress, required.Request, StringComparison.Ordinal);
        Assert.False(pending.HasSession);
        // A wrong code is a refused credential, in the server's words; the login stays pending.
        var wrong = await Assert.ThrowsAsync<InvalidCredentialsException>(() => pending.CompleteTwoFactorAsync("000000"));
        Assert.Equal("Incorrect code.", wrong.Detail);
        await pending.CompleteTwoFactorAsync(user.CodeAt(now));
        Assert.Equal(username, (await pending.WhoAmIAsync()).Username);

        // With a provider, one call: it is asked once, only after the password was right.
        var asked = 0;
        using var provided = new PosternSession(backends.Postern.BaseAddress, new PosternClientOptions
        {
            TwoFactorCode = (_, _) => ValueTask.FromResult<string?>(++asked == 1 ? user.CodeAt(now.AddSeconds(30)) : null),
        });
        await Assert.ThrowsAsync<InvalidCredentialsException>(() => provided.LoginAsync(username, "not-the-password"));
        Assert.Equal(0, asked);
        await provided.LoginAsync(username, password);
        Assert.Equal(1, asked);
        Assert.Equal(username, (await provided.WhoAmIAsync()).Username);

        // A code already spent is refused, as a replayed code must be.
        using var replay = new PosternSession(backends.Postern.BaseAddress, new PosternClientOptions
        {
            TwoFactorCode = (_, _) => ValueTask.FromResult<string?>(user.CodeAt(now)),
        });
        await Assert.ThrowsAsync<InvalidCredentialsException>(() => replay.LoginAsync(username, password));
        Assert.False(replay.HasSession);
    }

    [Fact]
    public async Task APosternLockSaysHowLongToWaitAndIsNotRetried()
    {
        const string password = "locked-Passw0rd";
        await backends.Postern.CreateUserAsync("client-locked", password);
        var logins = new LoginCounter(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false });
        using var session = new PosternSession(new PosternClientOptions { BaseAddress = backends.Postern.BaseAddress }, logins, disposeInner: true);
        for (var i = 0; i < GuardedPostern.AccountFailures; i++)
            await Assert.ThrowsAsync<InvalidCredentialsException>(() => session.LoginAsync("client-locked", "wrong-" + i));

        // Locked: even the right password is refused, with how long to wait.
        var before = logins.Count;
        var locked = await Assert.ThrowsAsync<ThrottledException>(() => session.LoginAsync("client-locked", password));
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.Status);
        Assert.NotNull(locked.RetryAfter);
        Assert.InRange(locked.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Matches(@"^Request was throttled\. Expected available in \d+ seconds?\.$", locked.Detail);
        Assert.StartsWith("POST " + backends.Postern.BaseAddress, locked.Request, StringComparison.Ordinal);
        Assert.False(session.HasSession);
        // One call, one login request: no retries behind the caller's back.
        Assert.Equal(before + 1, logins.Count);
    }

    /// <summary>Counts the login requests that reach the network.</summary>
    private sealed class LoginCounter(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private int _count;
        public int Count => _count;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post && request.RequestUri?.AbsolutePath == EndpointPaths.Login)
                Interlocked.Increment(ref _count);
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task AllauthsRateLimitIsAThrottle()
    {
        using var session = new PosternSession(backends.RateLimitedAllauth.BaseAddress);
        // allauth's "login_failed" limit: five wrong passwords for one account in five minutes, then refusals (400, not 429).
        for (var i = 0; i < 5; i++)
            await Assert.ThrowsAsync<InvalidCredentialsException>(() => session.LoginAsync("bob", "wrong-" + i));
        var throttled = await Assert.ThrowsAsync<ThrottledException>(() => session.LoginAsync("bob", AllauthPeer.BobPassword));
        Assert.Equal(HttpStatusCode.BadRequest, throttled.Status);
        Assert.Null(throttled.RetryAfter);
        Assert.Equal("Too many failed login attempts. Try again later.", throttled.Detail);
        Assert.Equal(LoginMode.AllauthHeadless, session.Mode);
    }

    [Fact]
    public async Task AllauthsPasswordChangeAndResetThroughTheHeadlessApi()
    {
        var allauth = backends.RateLimitedAllauth;
        var username = "pw-" + Guid.NewGuid().ToString("N")[..12];
        var email = username + "@example.org";
        const string first = "First-Passw0rd!", second = "Second-Passw0rd!";
        using var session = new PosternSession(allauth.BaseAddress, new PosternClientOptions { LoginMode = LoginMode.AllauthHeadless });
        // Signed up (and so signed in) through allauth's own API: a user of this test's alone.
        await session.GetJsonAsync(HeadlessApi + "config");
        using (var signup = await session.SendRawAsync(HttpMethod.Post, HeadlessApi + "auth/signup",
                   System.Net.Http.Json.JsonContent.Create(new { username, email, password = first })))
            Assert.True(signup.IsSuccessStatusCode, await signup.Content.ReadAsStringAsync());

        var wrong = await Assert.ThrowsAsync<ValidationException>(() => session.ChangePasswordAsync("not-it", second));
        Assert.Contains("current_password", wrong.FieldErrors.Keys);
        await session.ChangePasswordAsync(first, second);
        Assert.Equal(username, (await session.WhoAmIAsync()).Username);
        using var again = new PosternSession(allauth.BaseAddress);
        await Assert.ThrowsAsync<InvalidCredentialsException>(() => again.LoginAsync(username, first));
        await again.LoginAsync(username, second);

        using var forgetful = new PosternSession(allauth.BaseAddress);
        await forgetful.RequestPasswordResetAsync(email);
        // Django's console backend prints the mail the site sent: to that address, with a reset link.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!allauth.ServerOutput.Contains("To: " + email, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        var output = allauth.ServerOutput;
        Assert.Contains("To: " + email, output, StringComparison.Ordinal);
        Assert.Contains("/accounts/password/reset/key/", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASensitiveActionPastTheWindowWantsThePasswordAgain()
    {
        const string password = "reauth-Passw0rd";
        await backends.Postern.CreateUserAsync("client-reauth", password);
        using var session = new PosternSession(backends.Postern.BaseAddress);
        await session.LoginAsync("client-reauth", password);
        await Task.Delay(TimeSpan.FromSeconds(GuardedPostern.ReauthSeconds + 0.5));

        var required = await Assert.ThrowsAsync<ReauthenticationRequiredException>(() => session.CreateTokenAsync("late"));
        Assert.Equal(HttpStatusCode.Unauthorized, required.Status);
        Assert.StartsWith("POST " + backends.Postern.BaseAddress, required.Request, StringComparison.Ordinal);
        // Still signed in: only the sensitive action waits.
        Assert.Equal("client-reauth", (await session.WhoAmIAsync()).Username);

        var wrong = await Assert.ThrowsAsync<InvalidCredentialsException>(() => session.ReauthenticateAsync("not-it"));
        Assert.Equal("Incorrect password.", wrong.Detail);
        await session.ReauthenticateAsync(password);
        var token = await session.CreateTokenAsync("late");
        Assert.Matches("^[0-9a-f]{40}$", token.Key);
    }

    [Fact]
    public async Task ALogoutTheServerDidNotDoIsNotReportedAsDone()
    {
        var site = backends.KeepingSite;
        using var session = new PosternSession(site.BaseAddress, new PosternClientOptions { LoginMode = LoginMode.Seed });
        await session.LoginAsync(SessionKeepingSite.Username, SessionKeepingSite.Password);

        var kept = await Assert.ThrowsAsync<LogoutNotConfirmedException>(() => session.LogoutAsync());
        Assert.Contains(site.BaseAddress.ToString(), kept.Message, StringComparison.Ordinal);
        // The client does not pretend: the session is still there, and still works.
        Assert.True(session.HasSession);
        Assert.Equal(SessionKeepingSite.Username, (await session.WhoAmIAsync()).Username);
    }
}
