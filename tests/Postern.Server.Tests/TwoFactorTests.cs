using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Server.Storage;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// Two-factor authentication and reauthentication on a real server whose clock the test moves. The codes are computed
/// apart from the server, by Python's pyotp (Debian's python3-pyotp), as an authenticator app would.
/// </summary>
public sealed class TwoFactorTests
{
    private const string Password = "alice-password";

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static Task<PosternTestServer> StartAsync(ManualClock clock, bool throttling = false) =>
        PosternTestServer.StartAsync(new Dictionary<string, string?> { ["Postern:Throttling:Enabled"] = throttling ? "true" : "false" },
            services: s => s.AddSingleton<TimeProvider>(clock));

    /// <summary>The code an authenticator app shows at <paramref name="at"/> for a base32 secret, by pyotp.</summary>
    private static async Task<string> AppCodeAsync(string secret, DateTimeOffset at)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-c", "import sys, pyotp; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))", secret,
                     at.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)])
            start.ArgumentList.Add(argument);
        using var python = Process.Start(start)!;
        var code = (await python.StandardOutput.ReadToEndAsync()).Trim();
        var error = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, "pyotp failed (python3-pyotp missing?): " + error);
        return code;
    }

    private static async Task<Visitor> SignedInAsync(PosternTestServer server, string username = "alice", string password = Password)
    {
        var visitor = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, password)).Status);
        return visitor;
    }

    private static Task<RawResponse> PostJsonAsync(Visitor visitor, string path, string json) =>
        visitor.PostWithTokenAsync(path, RawHttp.Json(json));

    /// <summary>Sets up and turns on TOTP for the visitor's user: the secret and the first recovery codes.</summary>
    private static async Task<(string Secret, string[] RecoveryCodes)> TurnOnAsync(Visitor visitor, ManualClock clock)
    {
        var setup = await PostJsonAsync(visitor, EndpointPaths.TotpSetup, "{}");
        Assert.Equal(HttpStatusCode.OK, setup.Status);
        var secret = setup.Json().GetProperty("secret").GetString()!;
        var activated = await PostJsonAsync(visitor, EndpointPaths.TotpActivate, $$"""{"code": "{{await AppCodeAsync(secret, clock.Now)}}"}""");
        Assert.Equal(HttpStatusCode.OK, activated.Status);
        return (secret, [.. activated.Json().GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!)]);
    }

    [Fact]
    public async Task SetUpActivateAndLogInWithACodeFromTheApp()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        await server.CreateUserAsync("alice", Password);
        var alice = await SignedInAsync(server);

        var state = await alice.GetAsync(EndpointPaths.Mfa);
        Assert.Equal(HttpStatusCode.OK, state.Status);
        Assert.False(state.Json().GetProperty("totp_enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, state.Json().GetProperty("totp_activated_at").ValueKind);

        var setup = await PostJsonAsync(alice, EndpointPaths.TotpSetup, "{}");
        Assert.Equal(HttpStatusCode.OK, setup.Status);
        Assert.Equal("no-store", setup.Header("Cache-Control"));
        var secret = setup.Json().GetProperty("secret").GetString()!;
        Assert.Matches("^[A-Z2-7]{32}$", secret);
        var url = setup.Json().GetProperty("otpauth_url").GetString()!;
        Assert.StartsWith("otpauth://totp/", url, StringComparison.Ordinal);
        Assert.Contains("secret=" + secret, url, StringComparison.Ordinal);
        Assert.Contains("issuer=Postern", url, StringComparison.Ordinal);
        Assert.Contains("alice", url, StringComparison.Ordinal);
        Assert.Contains("<svg", setup.Json().GetProperty("qr_code_svg").GetString()!, StringComparison.Ordinal);

        // Not on until a code confirms it: logins do not ask for one yet.
        Assert.Equal(HttpStatusCode.OK, (await new Visitor(server.CreateRawClient()).LoginAsync("alice", Password)).Status);
        var wrong = await PostJsonAsync(alice, EndpointPaths.TotpActivate, """{"code": "000000"}""");
        Assert.Equal(HttpStatusCode.BadRequest, wrong.Status);
        Assert.Equal("""{"code":["Incorrect code."]}""", wrong.Body);
        var code = await AppCodeAsync(secret, clock.Now);
        var activated = await PostJsonAsync(alice, EndpointPaths.TotpActivate, $$"""{"code": "{{code}}"}""");
        Assert.Equal(HttpStatusCode.OK, activated.Status);
        Assert.Equal("Two-factor authentication is on.", activated.Detail);
        var codes = activated.Json().GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!).ToList();
        Assert.Equal(10, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$", c));
        state = await alice.GetAsync(EndpointPaths.Mfa);
        Assert.True(state.Json().GetProperty("totp_enabled").GetBoolean());
        Assert.Equal(10, state.Json().GetProperty("recovery_codes_left").GetInt32());
        Assert.Equal(HttpStatusCode.Conflict, (await PostJsonAsync(alice, EndpointPaths.TotpSetup, "{}")).Status);

        // The password alone now signs nobody in: 401, no session, a pending login instead.
        var visitor = new Visitor(server.CreateRawClient());
        var csrfBefore = (await visitor.GetAsync(EndpointPaths.Csrf)).Cookie(CookieNames.Csrf)!.Value;
        var login = await visitor.LoginAsync("alice", Password);
        Assert.Equal(HttpStatusCode.Unauthorized, login.Status);
        Assert.Equal("""{"detail":"Two-factor authentication required.","mfa_required":true}""", login.Body);
        Assert.Null(login.Cookie(CookieNames.Session));
        var pending = login.Cookie(CookieNames.MfaPending)!;
        Assert.True(pending.HttpOnly);
        Assert.Equal("300", pending.MaxAge);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync(EndpointPaths.User)).Status);

        // The code used to turn it on is spent; the next one signs in as a login does.
        var replayed = await PostJsonAsync(visitor, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{code}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, replayed.Status);
        clock.Now += TimeSpan.FromSeconds(30);
        var next = await AppCodeAsync(secret, clock.Now);
        var done = await PostJsonAsync(visitor, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{next[..3]}} {{next[3..]}}"}""");
        Assert.Equal(HttpStatusCode.OK, done.Status);
        Assert.Equal("""{"detail":"Successfully logged in.","username":"alice"}""", done.Body);
        Assert.NotNull(done.Cookie(CookieNames.Session));
        Assert.True(done.Cookie(CookieNames.MfaPending)!.IsDeletion);
        Assert.NotEqual(csrfBefore, visitor.CsrfCookie);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync(EndpointPaths.User)).Status);

        // A code is accepted once, by any login: the same one again is refused.
        var other = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await other.LoginAsync("alice", Password)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostJsonAsync(other, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{next}}"}""")).Status);
    }

    [Fact]
    public async Task ARecoveryCodeWorksOnceAndTheSecretIsSealedAtRest()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        var user = await server.CreateUserAsync("alice", Password);
        var (secret, codes) = await TurnOnAsync(await SignedInAsync(server), clock);

        var visitor = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await visitor.LoginAsync("alice", Password)).Status);
        // Typed as people type it: upper case, spaces for dashes.
        var typed = codes[3].ToUpperInvariant().Replace('-', ' ');
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync(visitor, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{typed}}"}""")).Status);
        Assert.Equal(9, (await visitor.GetAsync(EndpointPaths.Mfa)).Json().GetProperty("recovery_codes_left").GetInt32());

        var again = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await again.LoginAsync("alice", Password)).Status);
        Assert.Equal(HttpStatusCode.BadRequest,
            (await PostJsonAsync(again, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{codes[3]}}"}""")).Status);

        // What the database holds gives neither the secret nor a code away.
        var stored = (await server.Services.GetRequiredService<MfaStore>().GetAsync(user.Id, default)).Totp!;
        Assert.StartsWith("v1.", stored.SealedSecret, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, stored.SealedSecret, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task WrongCodesCountTowardTheLockoutAndAPendingLoginExpires()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock, throttling: true);
        await server.CreateUserAsync("alice", Password);
        var (secret, _) = await TurnOnAsync(await SignedInAsync(server), clock);

        var attacker = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.LoginAsync("alice", Password)).Status);
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.BadRequest, (await PostJsonAsync(attacker, EndpointPaths.MfaAuthenticate, """{"code": "123456"}""")).Status);
        clock.Now += TimeSpan.FromSeconds(30);
        var good = await AppCodeAsync(secret, clock.Now);
        var locked = await PostJsonAsync(attacker, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{good}}"}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.Status);
        Assert.Equal("30", locked.Header("Retry-After"));
        // The password cannot start a new count while the account is locked, either.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await new Visitor(server.CreateRawClient()).LoginAsync("alice", Password)).Status);

        // Once the lock ends the pending login still works within its five minutes; past them it is gone.
        clock.Now += TimeSpan.FromSeconds(31);
        var owner = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await owner.LoginAsync("alice", Password)).Status);
        clock.Now += TimeSpan.FromSeconds(301);
        var expired = await PostJsonAsync(owner, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{await AppCodeAsync(secret, clock.Now)}}"}""");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.Status);
        Assert.Equal("No login is waiting for a code: log in with the password first.", expired.Detail);
        Assert.Equal(HttpStatusCode.Unauthorized, (await owner.LoginAsync("alice", Password)).Status);
        Assert.Equal(HttpStatusCode.OK,
            (await PostJsonAsync(owner, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{await AppCodeAsync(secret, clock.Now)}}"}""")).Status);
    }

    [Fact]
    public async Task SensitiveActionsNeedARecentAuthentication()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        await server.CreateUserAsync("alice", Password);
        var alice = await SignedInAsync(server);
        var (secret, codes) = await TurnOnAsync(alice, clock);
        Assert.Equal(300, (await alice.GetAsync(EndpointPaths.User)).Json().GetProperty("reauthentication_seconds_left").GetInt32());

        clock.Now += TimeSpan.FromSeconds(120);
        Assert.Equal(180, (await alice.GetAsync(EndpointPaths.User)).Json().GetProperty("reauthentication_seconds_left").GetInt32());
        clock.Now += TimeSpan.FromSeconds(181);
        Assert.Equal(0, (await alice.GetAsync(EndpointPaths.User)).Json().GetProperty("reauthentication_seconds_left").GetInt32());
        foreach (var refused in (RawResponse[])[
                     await alice.SendAsync(HttpMethod.Delete, EndpointPaths.Totp, null, (HeaderNames.CsrfToken, alice.CsrfCookie!)),
                     await PostJsonAsync(alice, EndpointPaths.RecoveryCodes, "{}"),
                     await PostJsonAsync(alice, "/api/sessions/revoke-others/", "{}")])
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
            Assert.Equal("""{"detail":"Reauthentication required.","reauthentication_required":true}""", refused.Body);
        }

        var wrong = await PostJsonAsync(alice, EndpointPaths.Reauthenticate, """{"password": "wrong"}""");
        Assert.Equal(HttpStatusCode.BadRequest, wrong.Status);
        Assert.Equal("""{"password":["Incorrect password."]}""", wrong.Body);
        Assert.Equal("""{"non_field_errors":["Enter your password or a code."]}""",
            (await PostJsonAsync(alice, EndpointPaths.Reauthenticate, "{}")).Body);
        var keyBefore = alice.SessionCookie;
        var reauthenticated = await PostJsonAsync(alice, EndpointPaths.Reauthenticate, $$"""{"password": "{{Password}}"}""");
        Assert.Equal(HttpStatusCode.OK, reauthenticated.Status);
        Assert.Equal("""{"detail":"Reauthenticated.","reauthentication_seconds_left":300}""", reauthenticated.Body);
        Assert.NotEqual(keyBefore, alice.SessionCookie);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await new Visitor(server.CreateRawClient()).GetAsync(EndpointPaths.User, ("Cookie", $"{CookieNames.Session}={keyBefore}"))).Status);

        var renewed = await PostJsonAsync(alice, EndpointPaths.RecoveryCodes, "{}");
        Assert.Equal(HttpStatusCode.OK, renewed.Status);
        Assert.Equal(10, renewed.Json().GetProperty("recovery_codes").GetArrayLength());
        // The old codes are gone.
        var visitor = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await visitor.LoginAsync("alice", Password)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostJsonAsync(visitor, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{codes[0]}}"}""")).Status);

        // A code reauthenticates too.
        clock.Now += TimeSpan.FromSeconds(301);
        var withCode = await PostJsonAsync(alice, EndpointPaths.Reauthenticate, $$"""{"code": "{{await AppCodeAsync(secret, clock.Now)}}"}""");
        Assert.Equal(HttpStatusCode.OK, withCode.Status);
        var off = await alice.SendAsync(HttpMethod.Delete, EndpointPaths.Totp, null, (HeaderNames.CsrfToken, alice.CsrfCookie!));
        Assert.Equal(HttpStatusCode.OK, off.Status);
        Assert.Equal("Two-factor authentication is off.", off.Detail);
        Assert.Equal(HttpStatusCode.OK, (await new Visitor(server.CreateRawClient()).LoginAsync("alice", Password)).Status);
        Assert.False((await alice.GetAsync(EndpointPaths.Mfa)).Json().GetProperty("totp_enabled").GetBoolean());
    }

    [Fact]
    public async Task ATokenNeedsARecentSessionToBeMadeAndCannotActInItsPlace()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        await server.CreateUserAsync("alice", Password);
        var alice = await SignedInAsync(server);
        var created = await PostJsonAsync(alice, ApiToken.ListPath, """{"name": "script"}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var key = created.Json().GetProperty("key").GetString()!;

        clock.Now += TimeSpan.FromSeconds(301);
        var stale = await PostJsonAsync(alice, ApiToken.ListPath, """{"name": "another"}""");
        Assert.Equal(HttpStatusCode.Unauthorized, stale.Status);
        Assert.Equal("""{"detail":"Reauthentication required.","reauthentication_required":true}""", stale.Body);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync(ApiToken.ListPath)).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync(alice, EndpointPaths.Reauthenticate, $$"""{"password": "{{Password}}"}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await PostJsonAsync(alice, ApiToken.ListPath, """{"name": "another"}""")).Status);

        // A token never reauthenticates, so it cannot do what needs it, nor manage the second factor.
        var client = server.CreateRawClient();
        (string, string)[] token = [("Authorization", ApiToken.HeaderValue(key))];
        var user = await client.SendAsync(HttpMethod.Get, EndpointPaths.User, token);
        Assert.Equal(HttpStatusCode.OK, user.Status);
        Assert.Equal(0, user.Json().GetProperty("reauthentication_seconds_left").GetInt32());
        foreach (var (method, path) in ((HttpMethod, string)[])[
                     (HttpMethod.Get, EndpointPaths.Mfa), (HttpMethod.Post, EndpointPaths.TotpSetup),
                     (HttpMethod.Delete, EndpointPaths.Totp), (HttpMethod.Post, EndpointPaths.RecoveryCodes),
                     (HttpMethod.Post, EndpointPaths.Reauthenticate), (HttpMethod.Post, "/api/sessions/revoke-others/")])
        {
            var refused = await client.SendAsync(method, path, token, method == HttpMethod.Post ? RawHttp.Json("{}") : null);
            Assert.True(refused.Status == HttpStatusCode.Forbidden, $"{method} {path}: {refused.Status} {refused.Body}");
            Assert.Equal("An API token cannot do this: sign in with a session.", refused.Detail);
        }
    }

    [Fact]
    public async Task APasswordChangeEndsThePendingLoginAndWrongOldPasswordsLockTheAccount()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock, throttling: true);
        await server.CreateUserAsync("alice", Password);
        var alice = await SignedInAsync(server);
        var (secret, _) = await TurnOnAsync(alice, clock);

        var pending = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await pending.LoginAsync("alice", Password)).Status);
        var changed = await PostJsonAsync(alice, EndpointPaths.PasswordChange,
            """{"old_password": "alice-password", "new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"}""");
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        clock.Now += TimeSpan.FromSeconds(30);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await PostJsonAsync(pending, EndpointPaths.MfaAuthenticate, $$"""{"code": "{{await AppCodeAsync(secret, clock.Now)}}"}""")).Status);

        // A stolen session guessing the old password is held to the login's lockout.
        for (var i = 0; i < 5; i++)
        {
            var guess = await PostJsonAsync(alice, EndpointPaths.PasswordChange,
                """{"old_password": "guess", "new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"}""");
            Assert.Equal(HttpStatusCode.BadRequest, guess.Status);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostJsonAsync(alice, EndpointPaths.PasswordChange,
            """{"old_password": "a-new-long-passphrase", "new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"}""")).Status);
    }

    [Fact]
    public async Task TheBrowsableLoginPageAsksForTheCode()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        await server.CreateUserAsync("alice", Password);
        var (secret, _) = await TurnOnAsync(await SignedInAsync(server), clock);

        var browser = new Visitor(server.CreateRawClient());
        await browser.GetAsync("/api-auth/login/");
        var token = browser.CsrfCookie!;
        var first = await browser.SendAsync(HttpMethod.Post, "/api-auth/login/",
            RawHttp.Form(("csrfmiddlewaretoken", token), ("username", "alice"), ("password", Password), ("next", "/api/users/")));
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Contains("id=\"id_code\"", first.Body, StringComparison.Ordinal);
        Assert.Null(first.Cookie(CookieNames.Session));

        var wrong = await browser.SendAsync(HttpMethod.Post, "/api-auth/login/",
            RawHttp.Form(("csrfmiddlewaretoken", token), ("code", "000000"), ("next", "/api/users/")));
        Assert.Contains("Incorrect code.", wrong.Body, StringComparison.Ordinal);
        clock.Now += TimeSpan.FromSeconds(30);
        var done = await browser.SendAsync(HttpMethod.Post, "/api-auth/login/",
            RawHttp.Form(("csrfmiddlewaretoken", token), ("code", await AppCodeAsync(secret, clock.Now)), ("next", "/api/users/")));
        Assert.Equal(HttpStatusCode.Found, done.Status);
        Assert.Equal("/api/users/", done.Header("Location"));
        Assert.NotNull(done.Cookie(CookieNames.Session));
    }

    [Fact]
    public async Task TheEndpointsNeedASignedInUserAndCsrf()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        var anonymous = new Visitor(server.CreateRawClient());
        await anonymous.GetAsync(EndpointPaths.Csrf);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(EndpointPaths.Mfa)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(anonymous, EndpointPaths.TotpSetup, "{}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(anonymous, EndpointPaths.Reauthenticate, """{"password": "x"}""")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostJsonAsync(anonymous, EndpointPaths.MfaAuthenticate, """{"code": "123456"}""")).Status);
        Assert.Equal("""{"code":["This field is required."]}""", (await PostJsonAsync(anonymous, EndpointPaths.MfaAuthenticate, "{}")).Body);
        // No CSRF token: refused before anything else, as every unsafe request.
        var noToken = await anonymous.SendAsync(HttpMethod.Post, EndpointPaths.MfaAuthenticate, RawHttp.Json("""{"code": "123456"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, noToken.Status);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await anonymous.GetAsync(EndpointPaths.TotpSetup)).Status);
    }
}
