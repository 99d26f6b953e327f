using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using Postern.Protocol;
using Postern.Testing;
using static Postern.Differential.Tests.ScenarioStep;

namespace Postern.Differential.Tests;

// The account flows of docs/accounts.md (issue 13), every row of the contract and its failures, played against
// the Django reference backend (tests/django-backend: Django's own forms, validators, token generator and
// signing) and Postern, with the same observations as AuthProtocolScenarios. Beyond the observations there,
// error lists, the order of the keys and the account fields (email, first_name, last_name, status) are
// compared exactly. Deliberate differences, declared where they apply:
//  1. and 2. of AuthProtocolScenarios: a CSRF failure on /auth/ (Django's HTML page) and a 405 (Django's empty body).
//  10. A new password over 4096 characters: Django hashes and takes it; Postern refuses it on its field.
//
// Users: the seeded ones have the same ids on both servers (alice 1, bob 2, user000 3 … user024 27); a scenario
// that changes a user signs one up or uses a user000… of its own, so that scenarios stay independent.
// Verification keys are minted here (DjangoSigner, both servers share the secret key). Reset tokens cannot be (they
// hash the password hash and last login), so the Mailed setup gives each server of its pair an SMTP server of its own
// (SmtpTestServer) and its scenarios take the uid, token or key from the e-mail that server sent. Not played here:
// an expired reset token (AccountFlowTests, with the token's clock), a token made by one server taken by the other
// (Postern.Protocol.Tests' ReferenceBackendTokenTests: the users' states differ between the two servers here), and
// superusers writing is_active, is_staff, is_superuser (neither seed has a superuser; AccountFlowTests does).

/// <summary>How the pair of servers is configured; each runs on its own pair, started on first use.</summary>
public enum AccountSetup
{
    /// <summary>The defaults: sign-up closed, verification optional.</summary>
    SignupClosed,

    /// <summary>Sign-up open, verification optional: most scenarios.</summary>
    Optional,

    Mandatory,
    NoVerification,

    /// <summary>As Optional, and each server sends its e-mail to an SMTP server of its own (<see cref="Mailboxes"/>).</summary>
    Mailed,
}

/// <summary>
/// The SMTP server each server of the Mailed setup sends to, by the server's host:port; a scenario's values read the
/// e-mails its own server sent.
/// </summary>
public static class Mailboxes
{
    private static readonly ConcurrentDictionary<string, SmtpTestServer> ByServer = new(StringComparer.Ordinal);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static void Register(Uri server, SmtpTestServer smtp) => ByServer[server.Authority] = smtp;

    private static SmtpTestServer Of(ClientState client) =>
        ByServer.TryGetValue(client.Authority, out var smtp)
            ? smtp
            : throw new InvalidOperationException($"No mailbox for {client.Authority}: play this scenario on the Mailed setup.");

    private static IEnumerable<string> LinksTo(ClientState client, string address, string prefix) =>
        Of(client).Messages
            .Where(m => m.To.Mailboxes.Any(a => string.Equals(a.Address, address, StringComparison.OrdinalIgnoreCase)))
            .SelectMany(m => Regex.Matches(m.TextBody ?? "", @"\S+").Select(match => match.Value))
            .Where(link => link.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>
    /// The path after <paramref name="prefix"/> of the <paramref name="nth"/> (1-based) link to it e-mailed to
    /// <paramref name="address"/>, waiting for it: Django sends while the request waits, Postern just after.
    /// </summary>
    public static string Link(ClientState client, string address, string prefix, int nth)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var links = LinksTo(client, address, prefix).ToList();
            if (links.Count >= nth)
                return Uri.UnescapeDataString(links[nth - 1][prefix.Length..]);
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{client.Authority} e-mailed {links.Count} link(s) to {prefix}… to {address}, not {nth}.");
            // A scenario's values are resolved synchronously; the mail arrives on its own.
            Thread.Sleep(50);
        }
    }

    /// <summary>Throws unless, after a wait long enough for Postern's worker to have sent it, no e-mail went to the address.</summary>
    public static void AssertNoneTo(ClientState client, string address)
    {
        Thread.Sleep(1500);
        var sent = Of(client).Messages.Count(m => m.To.Mailboxes.Any(a => string.Equals(a.Address, address, StringComparison.OrdinalIgnoreCase)));
        if (sent > 0)
            throw new InvalidOperationException($"{client.Authority} e-mailed {address} {sent} time(s); it should not have.");
    }

    /// <summary>Throws unless, after the same wait, exactly <paramref name="count"/> links to the prefix went to the address.</summary>
    public static void AssertLinksTo(ClientState client, string address, string prefix, int count)
    {
        Thread.Sleep(1500);
        var sent = LinksTo(client, address, prefix).Count();
        if (sent != count)
            throw new InvalidOperationException($"{client.Authority} e-mailed {sent} link(s) to {prefix}… to {address}, not {count}.");
    }
}

public sealed record AccountScenario(AccountSetup Setup, Scenario Scenario)
{
    public override string ToString() => Scenario.Name;
}

/// <summary>The scenarios, by name.</summary>
public static class AccountScenarios
{
    /// <summary>The secret key both servers of every pair share, so that a key minted here is good on both.</summary>
    public const string SecretKey = "differential-accounts-secret-key-for-tests-only-5e2a";

    public const string VerificationSalt = "postern.accounts.email-verification";
    public const string ResetUrl = "http://app.example/reset/{uid}/{token}";
    public const string VerifyUrl = "http://app.example/verify/{key}";

    private const string Csrf = EndpointPaths.Csrf;
    private const string Login = EndpointPaths.Login;
    private const string Logout = EndpointPaths.Logout;
    private const string User = EndpointPaths.User;
    private const string Change = EndpointPaths.PasswordChange;
    private const string Reset = EndpointPaths.PasswordReset;
    private const string Confirm = EndpointPaths.PasswordResetConfirm;
    private const string Signup = EndpointPaths.Signup;
    private const string Verify = EndpointPaths.EmailVerify;
    private const string Resend = EndpointPaths.EmailVerifyResend;

    private const string GoodPassword = "tr0ub4dor&3-staple";
    private const string OtherPassword = "n3w-Passw0rd!";

    // Seeded ids (tests/django-backend seed_users, Postern's demo data): alice 1, bob 2, userNNN NNN + 3.
    private const int AliceId = 1;
    private const string AliceUid = "MQ";
    private static string SeededUser(int number) => $"/api/users/{number + 3}/";

    private static readonly string TooLongPassword = new('p', DjangoPasswordHash.MaxPasswordLength + 1);

    private static ScenarioStep FetchCsrf => Get(Csrf).Expecting(200);
    private static ScenarioStep PostJson(string path, string json) => Post(path).WithCsrfHeader().WithJson(json);
    private static ScenarioStep PatchJson(string json) => Send("PATCH", User).WithCsrfHeader().WithJson(json);
    private static ScenarioStep LoginAs(string username, string password) =>
        PostJson(Login, Json(("username", username), ("password", password)));
    private static ScenarioStep LoginAlice => LoginAs("alice", "alice-password").Expecting(200);
    private static ScenarioStep LoginBob => LoginAs("bob", "bob-password").Expecting(200);
    private static ScenarioStep WhoAmI => Get(User);

    /// <summary>Signs up with valid fields, remembering the new user's id (for keys minted for them).</summary>
    private static ScenarioStep SignUp(string username, string password = GoodPassword, string? email = null) =>
        PostJson(Signup, Json(("username", username), ("email", email ?? $"{username}@example.org"), ("password1", password),
                ("password2", password)))
            .RememberFromResponse("id", IdOf);

    private static ScenarioStep SignedUp(string username, string? email = null) => SignUp(username, email: email).Expecting(201);

    private static ScenarioStep Csrf403(ScenarioStep step) =>
        step.Expecting(403).Differing(Expectation.CsrfFailure("CSRF token missing."));

    private static ScenarioStep Refused405(ScenarioStep step) => step.Expecting(405).Differing(Expectation.MethodNotAllowed(step.Method));

    /// <summary>Forget the session cookie: the next login starts a second session of the same user.</summary>
    private static ScenarioStep ForgettingSession(this ScenarioStep step) => step.Prepare(c => c.Jar[CookieNames.Session] = null);

    /// <summary>Remembers the session cookie the client holds once this step is answered.</summary>
    private static ScenarioStep RememberSession(this ScenarioStep step, string name) =>
        step with { After = step.After + ((client, _) => client.Remembered[name] = client.Jar[CookieNames.Session] ?? "") };

    private static ScenarioStep WithSession(this ScenarioStep step, string name) =>
        step.Prepare(c => c.Jar[CookieNames.Session] = c.Remembered[name]);

    /// <summary>A compact JSON object of these fields, in this order.</summary>
    private static string Json(params (string Name, object? Value)[] fields)
    {
        var text = new System.Text.StringBuilder("{");
        foreach (var (name, value) in fields)
        {
            text.Append(text.Length > 1 ? ", " : "").Append(JsonSerializer.Serialize(name)).Append(": ")
                .Append(JsonSerializer.Serialize(value));
        }
        return text.Append('}').ToString();
    }

    private static string IdOf(RawResponse response) =>
        response.StatusCode == 201 ? Regex.Match(response.Json().GetProperty("url").GetString()!, "/users/([0-9]+)/").Groups[1].Value : "";

    /// <summary>A verification key as django.core.signing.dumps([id, address], salt) makes it, signed <paramref name="age"/> ago.</summary>
    private static Value KeyFor(Func<ClientState, string> userId, string address, TimeSpan age = default, string salt = VerificationSalt,
        string secret = SecretKey) =>
        new(client => new DjangoSigner(secret).Dumps($"[{userId(client)},{JsonSerializer.Serialize(address)}]", salt,
            DateTimeOffset.UtcNow - age));

    private static Value KeyForSignedUp(string address, TimeSpan age = default) => KeyFor(c => c.Remembered["id"], address, age);

    private static Value KeyForAlice(string address = "alice@example.org", TimeSpan age = default, string salt = VerificationSalt,
        string secret = SecretKey) =>
        KeyFor(_ => AliceId.ToString(System.Globalization.CultureInfo.InvariantCulture), address, age, salt, secret);

    private static ScenarioStep VerifyKey(Value key) =>
        Post(Verify).WithCsrfHeader().WithJson(new Value(c => Json(("key", key.Resolve(c)))));

    private static readonly TimeSpan ThreeDays = TimeSpan.FromSeconds(259200);

    private static AccountScenario On(AccountSetup setup, string name, params ScenarioStep[] steps) =>
        new(setup, new Scenario(name, steps));
    private static AccountScenario Opt(string name, params ScenarioStep[] steps) => On(AccountSetup.Optional, name, steps);

    private static readonly string[] PostEndpoints = [Change, Reset, Confirm, Signup, Verify, Resend];

    /// <summary>Every POST endpoint's methods, CSRF and body rules (docs/accounts.md, "Every endpoint below").</summary>
    private static IEnumerable<AccountScenario> Conventions() =>
        PostEndpoints.SelectMany(path => new[]
        {
            Opt($"{path}: GET is 405 (a safe method: no CSRF check)", Refused405(Get(path))),
            Opt($"{path}/: the trailing slash is the same endpoint", Refused405(Get(path + "/"))),
            Opt($"{path}: POST without the CSRF token", FetchCsrf, Csrf403(Post(path).WithJson("{}"))),
            Opt($"{path}/: POST without the CSRF token", FetchCsrf, Csrf403(Post(path + "/").WithJson("{}"))),
            Opt($"{path}: PUT without the token is a CSRF failure before the 405", FetchCsrf, Csrf403(Send("PUT", path).WithJson("{}"))),
            Opt($"{path}: PUT with the token is 405", FetchCsrf, Refused405(Send("PUT", path).WithCsrfHeader().WithJson("{}"))),
            Opt($"{path}: DELETE with the token is 405", FetchCsrf, Refused405(Send("DELETE", path).WithCsrfHeader())),
        }).Concat(PostEndpoints.Where(path => path != Change).SelectMany(path => new[]
        {
            Opt($"{path}: malformed JSON", FetchCsrf, PostJson(path, """{"email": """).Expecting(400)),
            Opt($"{path}: a JSON array", FetchCsrf, PostJson(path, """["x"]""").Expecting(400)),
            Opt($"{path}: JSON null", FetchCsrf, PostJson(path, "null").Expecting(400)),
            Opt($"{path}: a JSON string", FetchCsrf, PostJson(path, "\"text\"").Expecting(400)),
            Opt($"{path}: an empty JSON body is an empty object", FetchCsrf, PostJson(path, "").Expecting(400)),
        }));

    private static IEnumerable<AccountScenario> PasswordChange() =>
    [
        Opt("change: anonymous", FetchCsrf, PostJson(Change, Json(("old_password", "x"))).Expecting(403)),
        Opt("change: anonymous, malformed JSON: refused as anonymous first", FetchCsrf, PostJson(Change, "{").Expecting(403)),
        Opt("change: anonymous without the token", FetchCsrf, Csrf403(Post(Change).WithJson("{}"))),
        Opt("change: signed in without the token", FetchCsrf, LoginBob, Csrf403(Post(Change).WithJson("{}"))),
        Opt("change: malformed JSON", FetchCsrf, LoginBob, PostJson(Change, """{"old_password": """).Expecting(400)),
        Opt("change: a JSON array", FetchCsrf, LoginBob, PostJson(Change, "[]").Expecting(400)),
        Opt("change: nothing", FetchCsrf, LoginBob, PostJson(Change, "{}").Expecting(400)),
        Opt("change: null and empty", FetchCsrf, LoginBob,
            PostJson(Change, Json(("old_password", null), ("new_password1", ""), ("new_password2", null))).Expecting(400)),
        Opt("change: values that are not strings", FetchCsrf, LoginBob,
            PostJson(Change, """{"old_password": 1, "new_password1": true, "new_password2": ["x"]}""").Expecting(400)),
        Opt("change: an object and a number", FetchCsrf, LoginBob,
            PostJson(Change, """{"old_password": "bob-password", "new_password1": {"a": 1}, "new_password2": 12345678}""").Expecting(400)),
        Opt("change: one field missing", FetchCsrf, LoginBob,
            PostJson(Change, Json(("old_password", "bob-password"), ("new_password1", OtherPassword))).Expecting(400)),
        Opt("change: a wrong old password", FetchCsrf, LoginBob,
            PostJson(Change, Json(("old_password", "nope"), ("new_password1", OtherPassword), ("new_password2", OtherPassword)))
                .Expecting(400),
            WhoAmI.Expecting(200), LoginAs("bob", "bob-password").Expecting(200).Differing(Expectation.ReloginIssuesNewSessionKey)),
        Opt("change: a 10,000-character old password", FetchCsrf, LoginBob,
            PostJson(Change, Json(("old_password", new string('o', 10_000)), ("new_password1", OtherPassword),
                ("new_password2", OtherPassword))).Expecting(400)),
        Opt("change: the two new passwords differ", FetchCsrf, LoginBob,
            PostJson(Change, Json(("old_password", "bob-password"), ("new_password1", OtherPassword),
                    ("new_password2", OtherPassword + "?")))
                .Expecting(400)),
        Opt("change: a wrong old password and a mismatch, both reported", FetchCsrf, LoginBob,
            PostJson(Change, Json(("old_password", "x"), ("new_password1", "1"), ("new_password2", "2"))).Expecting(400)),
        .. Validators.Where(v => v.ForBob.Length > 0).Select(v => Opt($"change: validator, {v.What}", FetchCsrf, LoginBob,
            PostJson(Change, Json(("old_password", "bob-password"), ("new_password1", v.ForBob), ("new_password2", v.ForBob)))
                .Expecting(400))),
        Opt("change: a wrong old password and a validator", FetchCsrf, LoginBob,
            PostJson(Change, Json(("old_password", "x"), ("new_password1", "1234"), ("new_password2", "1234"))).Expecting(400)),
        Opt("change: a form, the token in csrfmiddlewaretoken", FetchCsrf, LoginBob,
            Post(Change).WithForm(("old_password", "x"), ("csrfmiddlewaretoken", Value.CsrfCookie)).Expecting(400)),
        Opt("change: multipart", FetchCsrf, LoginBob,
            Post(Change).WithMultipart(("old_password", "bob-password"), ("new_password1", "1"), ("new_password2", "1"),
                ("csrfmiddlewaretoken", Value.CsrfCookie)).Expecting(400)),
        Opt("change: success: this session stays under a new key and CSRF secret, the others end", FetchCsrf,
            SignedUp("chg-ok").RememberSession("first"),
            LoginAs("chg-ok", GoodPassword).ForgettingSession().Expecting(200),
            PostJson(Change, Json(("old_password", GoodPassword), ("new_password1", OtherPassword), ("new_password2", OtherPassword)))
                .Expecting(200),
            WhoAmI.Expecting(200),
            WhoAmI.WithSession("first").Expecting(403),
            FetchCsrf, LoginAs("chg-ok", GoodPassword).Expecting(401), LoginAs("chg-ok", OtherPassword).Expecting(200)),
        Opt("change: success as a form", FetchCsrf, SignedUp("chg-form"),
            Post(Change).WithForm(("old_password", GoodPassword), ("new_password1", OtherPassword), ("new_password2", OtherPassword),
                ("csrfmiddlewaretoken", Value.CsrfCookie)).Expecting(200),
            WhoAmI.Expecting(200)),
        Opt("change: the same password again is a change too", FetchCsrf, SignedUp("chg-same"),
            PostJson(Change, Json(("old_password", GoodPassword), ("new_password1", GoodPassword), ("new_password2", GoodPassword)))
                .Expecting(200)),
        Opt("change: the CSRF token of before the change is dead", FetchCsrf, SignedUp("chg-csrf"),
            PostJson(Change, Json(("old_password", GoodPassword), ("new_password1", OtherPassword), ("new_password2", OtherPassword)))
                .Remember("token", c => c.CsrfCookie).Expecting(200),
            Post(Change).WithHeader(HeaderNames.CsrfToken, Value.Remembered("token")).WithJson("{}").Expecting(403)
                .Differing(Expectation.CsrfFailure($"CSRF token from the '{HeaderNames.CsrfTokenAsDjangoNamesIt}' HTTP header incorrect.")),
            PostJson(Change, "{}").Expecting(400)),
        Opt("change: a new password over 4096 characters", FetchCsrf, SignedUp("chg-long"),
            PostJson(Change, Json(("old_password", GoodPassword), ("new_password1", TooLongPassword), ("new_password2", TooLongPassword)))
                .Differing(Expectation.OverlongNewPassword(djangoStatus: 200))),
    ];

    /// <summary>
    /// Passwords that each validator refuses (and no other), for bob (bob@example.org: his username is too short to be
    /// similar to anything) and for a user signing up as johnsmith, zebracorn@mail.example.
    /// </summary>
    private static readonly (string What, string ForBob, string ForSignup)[] Validators =
    [
        ("similar to the username", "", "johnsmith1"),
        ("similar to the address", "bob@example", "zebracorn@mail"),
        ("too short", "xY7#qz", "xY7#qz"),
        ("too common", "qwertyuiop", "qwertyuiop"),
        ("entirely numeric", "40723981556", "40723981556"),
        ("short, common and numeric at once", "1234", "1234"),
    ];

    private static IEnumerable<AccountScenario> PasswordReset() =>
    [
        Opt("reset: nothing", FetchCsrf, PostJson(Reset, "{}").Expecting(400)),
        Opt("reset: empty", FetchCsrf, PostJson(Reset, Json(("email", ""))).Expecting(400)),
        Opt("reset: null", FetchCsrf, PostJson(Reset, Json(("email", null))).Expecting(400)),
        Opt("reset: blank", FetchCsrf, PostJson(Reset, Json(("email", "   "))).Expecting(400)),
        Opt("reset: a number", FetchCsrf, PostJson(Reset, """{"email": 5}""").Expecting(400)),
        Opt("reset: a list", FetchCsrf, PostJson(Reset, """{"email": ["alice@example.org"]}""").Expecting(400)),
        Opt("reset: not an address", FetchCsrf, PostJson(Reset, Json(("email", "alice"))).Expecting(400)),
        Opt("reset: 262 characters", FetchCsrf, PostJson(Reset, Json(("email", new string('a', 250) + "@example.org"))).Expecting(400)),
        Opt("reset: 10,000 characters", FetchCsrf,
            PostJson(Reset, Json(("email", new string('a', 9_988) + "@example.org"))).Expecting(400)),
        Opt("reset: an address of nobody", FetchCsrf, PostJson(Reset, Json(("email", "nobody@example.org"))).Expecting(200)),
        Opt("reset: alice's address", FetchCsrf, PostJson(Reset, Json(("email", "alice@example.org"))).Expecting(200)),
        Opt("reset: alice's address in capitals, spaces around", FetchCsrf,
            PostJson(Reset, Json(("email", " ALICE@EXAMPLE.ORG "))).Expecting(200)),
        Opt("reset: a user without a usable password", FetchCsrf, PostJson(Reset, Json(("email", "user000@example.org"))).Expecting(200)),
        Opt("reset: a form", FetchCsrf, Post(Reset).WithForm(("email", "bob@example.org"), ("csrfmiddlewaretoken", Value.CsrfCookie))
            .Expecting(200)),
        Opt("reset: multipart", FetchCsrf, Post(Reset).WithMultipart(("email", "x"), ("csrfmiddlewaretoken", Value.CsrfCookie))
            .Expecting(400)),
        Opt("reset: signed in, the session is left alone", FetchCsrf, LoginBob,
            PostJson(Reset, Json(("email", "bob@example.org"))).Expecting(200), WhoAmI.Expecting(200)),
    ];

    private static string ConfirmBody(object? uid, object? token, object? password1 = null, object? password2 = null) =>
        Json(("uid", uid), ("token", token), ("new_password1", password1 ?? OtherPassword), ("new_password2", password2 ?? OtherPassword));

    /// <summary>Django's base64 decoding pads what is short and skips what is not in its alphabet: each is alice's uid.</summary>
    private static readonly string[] AliceUidSpelledOtherwise = ["MQ==", "MQ=", "M Q", "M.Q"];

    private static IEnumerable<AccountScenario> ResetConfirm() =>
    [
        Opt("confirm: nothing: the four fields first", FetchCsrf, PostJson(Confirm, "{}").Expecting(400)),
        Opt("confirm: null and empty", FetchCsrf,
            PostJson(Confirm, Json(("uid", null), ("token", ""), ("new_password1", null), ("new_password2", ""))).Expecting(400)),
        Opt("confirm: values that are not strings", FetchCsrf,
            PostJson(Confirm, """{"uid": 1, "token": true, "new_password1": [], "new_password2": {}}""").Expecting(400)),
        Opt("confirm: two missing, before a bad uid", FetchCsrf, PostJson(Confirm, Json(("uid", "!!"), ("new_password1", "x")))
            .Expecting(400)),
        Opt("confirm: one missing, before a bad token", FetchCsrf,
            PostJson(Confirm, Json(("uid", AliceUid), ("token", "bad"), ("new_password1", "x"))).Expecting(400)),
        .. new[] { "!!", "YWJj", "MA", "LTE", "OTk5OTk", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5", new string('x', 10_000) }
            .Select(uid => Opt($"confirm: uid {(uid.Length > 30 ? $"of {uid.Length} characters" : $"'{uid}'")} names no user", FetchCsrf,
                PostJson(Confirm, ConfirmBody(uid, "bad")).Expecting(400))),
        .. AliceUidSpelledOtherwise.Select(uid => Opt($"confirm: uid '{uid}' is still alice's (then the token)", FetchCsrf,
            PostJson(Confirm, ConfirmBody(uid, "bad")).Expecting(400))),
        Opt("confirm: spaces around the uid are stripped (then the token)", FetchCsrf,
            PostJson(Confirm, ConfirmBody(" MQ ", "bad")).Expecting(400)),
        Opt("confirm: a NUL in the uid", FetchCsrf, PostJson(Confirm, ConfirmBody("M\0Q", "bad")).Expecting(400)),
        Opt("confirm: the uid before the token and the passwords", FetchCsrf,
            PostJson(Confirm, ConfirmBody("YWJj", "bad", "1", "2")).Expecting(400)),
        .. new[] { "bad", "1-a", "zzzzzzzzzzzzzz-0123456789abcdef0123", "cz1ohq-" + new string('0', 40), "1-" + new string('a', 100_000) }
            .Select(token => Opt($"confirm: token {(token.Length > 40 ? $"of {token.Length} characters" : $"'{token}'")} is refused",
                FetchCsrf, PostJson(Confirm, ConfirmBody(AliceUid, token)).Expecting(400))),
        Opt("confirm: the token before the passwords", FetchCsrf, PostJson(Confirm, ConfirmBody(AliceUid, "bad", "1", "2")).Expecting(400)),
        Opt("confirm: a form", FetchCsrf,
            Post(Confirm).WithForm(("uid", AliceUid), ("token", "bad"), ("new_password1", "x"), ("new_password2", "x"),
                ("csrfmiddlewaretoken", Value.CsrfCookie)).Expecting(400)),
        Opt("confirm: refusals change nothing", FetchCsrf, PostJson(Confirm, ConfirmBody(AliceUid, "bad")).Expecting(400), LoginAlice),
    ];

    private static string SignupBody(object? username, object? email, object? password1, object? password2) =>
        Json(("username", username), ("email", email), ("password1", password1), ("password2", password2));

    private static IEnumerable<AccountScenario> SignupFlows() =>
    [
        On(AccountSetup.SignupClosed, "signup closed", FetchCsrf, SignUp("closed-1").Expecting(403), WhoAmI.Expecting(403),
            LoginAs("closed-1", GoodPassword).Expecting(401)),
        On(AccountSetup.SignupClosed, "signup closed: whatever the body", FetchCsrf, PostJson(Signup, "{}").Expecting(403)),
        On(AccountSetup.SignupClosed, "signup closed: without the token, the CSRF failure first", FetchCsrf,
            Csrf403(Post(Signup).WithJson("{}"))),
        On(AccountSetup.SignupClosed, "signup closed: GET is 405", Refused405(Get(Signup))),
        Opt("signup: nothing", FetchCsrf, PostJson(Signup, "{}").Expecting(400)),
        Opt("signup: null, empty and blank", FetchCsrf, PostJson(Signup, SignupBody(null, "", "", null)).Expecting(400),
            PostJson(Signup, SignupBody("   ", "  ", GoodPassword, GoodPassword)).Expecting(400)),
        Opt("signup: values that are not strings", FetchCsrf,
            PostJson(Signup, """{"username": 5, "email": true, "password1": [], "password2": {}}""").Expecting(400)),
        Opt("signup: a bad username, a bad address, a mismatch", FetchCsrf,
            PostJson(Signup, SignupBody("bad name!", "nope", GoodPassword, GoodPassword + "x")).Expecting(400)),
        Opt("signup: username and address too long", FetchCsrf,
            PostJson(Signup, SignupBody(new string('u', 151), new string('a', 250) + "@example.org", GoodPassword, GoodPassword))
                .Expecting(400)),
        Opt("signup: 10,000-character username and address", FetchCsrf,
            PostJson(Signup, SignupBody(new string('u', 10_000), new string('a', 9_988) + "@example.org", GoodPassword, GoodPassword))
                .Expecting(400)),
        Opt("signup: a username with a NUL", FetchCsrf, PostJson(Signup, SignupBody("nul\0name", "n@example.org", GoodPassword,
            GoodPassword)).Expecting(400)),
        Opt("signup: the username is taken", FetchCsrf, PostJson(Signup, SignupBody("alice", "a@example.org", GoodPassword, GoodPassword))
            .Expecting(400)),
        Opt("signup: the username is taken in another case", FetchCsrf,
            PostJson(Signup, SignupBody("ALICE", "a@example.org", GoodPassword, GoodPassword)).Expecting(400)),
        Opt("signup: one password missing", FetchCsrf, PostJson(Signup, Json(("username", "one-pw"), ("email", "o@example.org"),
            ("password1", GoodPassword))).Expecting(400)),
        .. Validators.Select(v => Opt($"signup: validator, {v.What}", FetchCsrf,
            PostJson(Signup, SignupBody("johnsmith", "zebracorn@mail.example", v.ForSignup, v.ForSignup)).Expecting(400))),
        Opt("signup: refusals made no user", FetchCsrf,
            PostJson(Signup, SignupBody("nobody-yet", "n@example.org", "1234", "1234")).Expecting(400),
            LoginAs("nobody-yet", "1234").Expecting(401)),
        Opt("signup: success, signed in with a new session and CSRF secret", FetchCsrf, SignedUp("sam"), WhoAmI.Expecting(200),
            LoginAs("sam", GoodPassword).Expecting(200).Differing(Expectation.ReloginIssuesNewSessionKey)),
        Opt("signup: signed in as someone else, now the new user", FetchCsrf, LoginBob, SignedUp("sam-2"), WhoAmI.Expecting(200)),
        Opt("signup: an address that others use is accepted", FetchCsrf, SignedUp("alias", email: "alice@example.org"),
            WhoAmI.Expecting(200)),
        Opt("signup: spaces around the username are stripped", FetchCsrf,
            PostJson(Signup, SignupBody(" spaced ", "spaced@example.org", GoodPassword, GoodPassword)).Expecting(201),
            LoginAs("spaced", GoodPassword).Expecting(200).Differing(Expectation.ReloginIssuesNewSessionKey)),
        Opt("signup: a form", FetchCsrf,
            Post(Signup).WithForm(("username", "formed"), ("email", "formed@example.org"), ("password1", GoodPassword),
                ("password2", GoodPassword), ("csrfmiddlewaretoken", Value.CsrfCookie)).Expecting(201)),
        Opt("signup: multipart", FetchCsrf,
            Post(Signup).WithMultipart(("username", "multi"), ("email", "multi@example.org"), ("password1", GoodPassword),
                ("password2", GoodPassword), ("csrfmiddlewaretoken", Value.CsrfCookie)).Expecting(201)),
        Opt("signup: the same username twice", FetchCsrf, SignedUp("twice"), FetchCsrf, SignUp("twice").Expecting(400)),
        Opt("signup: a password over 4096 characters", FetchCsrf,
            SignUp("longpw", TooLongPassword).Differing(Expectation.OverlongNewPassword(djangoStatus: 201))),
        On(AccountSetup.Mandatory, "mandatory: sign-up does not sign in; login refused until the address is verified", FetchCsrf,
            SignedUp("mona"), WhoAmI.Expecting(403),
            LoginAs("mona", GoodPassword).Expecting(403),
            LoginAs("mona", "wrong").Expecting(401),
            WhoAmI.Expecting(403),
            VerifyKey(KeyForSignedUp("mona@example.org")).Expecting(200),
            LoginAs("mona", GoodPassword).Expecting(200), WhoAmI.Expecting(200)),
        On(AccountSetup.Mandatory, "mandatory: seeded addresses count as verified", FetchCsrf, LoginAlice, WhoAmI.Expecting(200)),
        On(AccountSetup.Mandatory, "mandatory: a new address must be verified before the next login", FetchCsrf, SignedUp("mia"),
            VerifyKey(KeyForSignedUp("mia@example.org")).Expecting(200), LoginAs("mia", GoodPassword).Expecting(200),
            PatchJson(Json(("email", "mia@new.example"))).Expecting(200), Post(Logout).WithCsrfHeader().Expecting(200),
            FetchCsrf, LoginAs("mia", GoodPassword).Expecting(403),
            VerifyKey(KeyForSignedUp("mia@new.example")).Expecting(200), LoginAs("mia", GoodPassword).Expecting(200)),
        On(AccountSetup.Mandatory, "mandatory: an unknown user is still 401", FetchCsrf, LoginAs("nobody", "x").Expecting(401)),
        On(AccountSetup.NoVerification, "none: sign-up signs in, the address stays unverified", FetchCsrf, SignedUp("nina"),
            WhoAmI.Expecting(200), PatchJson(Json(("email", "nina@new.example"))).Expecting(200)),
        On(AccountSetup.NoVerification, "none: the user model's clean() lower-cases the domain of a profile's address", FetchCsrf,
            SignedUp("nora"), PatchJson(Json(("email", "Nora.X@NEW.Example"))).Expecting(200), WhoAmI.Expecting(200)),
    ];

    private static IEnumerable<AccountScenario> EmailVerification() =>
    [
        Opt("verify: nothing", FetchCsrf, PostJson(Verify, "{}").Expecting(400)),
        Opt("verify: empty and null", FetchCsrf, PostJson(Verify, Json(("key", ""))).Expecting(400),
            PostJson(Verify, Json(("key", null))).Expecting(400)),
        Opt("verify: a number", FetchCsrf, PostJson(Verify, """{"key": 5}""").Expecting(400)),
        Opt("verify: garbage", FetchCsrf, PostJson(Verify, Json(("key", "garbage"))).Expecting(400)),
        Opt("verify: 100,000 characters", FetchCsrf, PostJson(Verify, Json(("key", new string('k', 100_000)))).Expecting(400)),
        Opt("verify: alice's key, anonymous (her address is verified already)", FetchCsrf, VerifyKey(KeyForAlice()).Expecting(200)),
        Opt("verify: a form", FetchCsrf, Post(Verify).WithForm(("key", KeyForAlice()), ("csrfmiddlewaretoken", Value.CsrfCookie))
            .Expecting(200)),
        Opt("verify: a key nearly three days old", FetchCsrf,
            VerifyKey(KeyForAlice(age: ThreeDays - TimeSpan.FromMinutes(5))).Expecting(200)),
        Opt("verify: an expired key", FetchCsrf, VerifyKey(KeyForAlice(age: ThreeDays + TimeSpan.FromMinutes(1))).Expecting(400)),
        Opt("verify: a key for another address", FetchCsrf, VerifyKey(KeyForAlice("alice@elsewhere.example")).Expecting(400)),
        Opt("verify: a key for the address in another case", FetchCsrf, VerifyKey(KeyForAlice("ALICE@example.org")).Expecting(400)),
        Opt("verify: a key of another salt", FetchCsrf, VerifyKey(KeyForAlice(salt: "another.salt")).Expecting(400)),
        Opt("verify: a key of another secret", FetchCsrf, VerifyKey(KeyForAlice(secret: "another secret")).Expecting(400)),
        Opt("verify: a key of a user that does not exist", FetchCsrf, VerifyKey(KeyFor(_ => "99999", "x@example.org")).Expecting(400)),
        Opt("verify: a tampered key", FetchCsrf,
            VerifyKey(new Value(c => KeyForAlice().Resolve(c)[..^2] + "xx")).Expecting(400)),
        Opt("verify: a signed-up address, again, then a new address and the old key", FetchCsrf, SignedUp("val"), WhoAmI.Expecting(200),
            VerifyKey(KeyForSignedUp("val@example.org")).Expecting(200), WhoAmI.Expecting(200),
            VerifyKey(KeyForSignedUp("val@example.org")).Expecting(200),
            PatchJson(Json(("email", "val@new.example"))).Expecting(200),
            VerifyKey(KeyForSignedUp("val@example.org")).Expecting(400), WhoAmI.Expecting(200),
            VerifyKey(KeyForSignedUp("val@new.example")).Expecting(200), WhoAmI.Expecting(200)),
        Opt("verify: back to an address verified before, unverified again", FetchCsrf, SignedUp("vera"),
            VerifyKey(KeyForSignedUp("vera@example.org")).Expecting(200),
            PatchJson(Json(("email", "vera@new.example"))).Expecting(200),
            PatchJson(Json(("email", "vera@example.org"))).Expecting(200)),
        Opt("resend: nothing", FetchCsrf, PostJson(Resend, "{}").Expecting(400)),
        Opt("resend: empty", FetchCsrf, PostJson(Resend, Json(("email", ""))).Expecting(400)),
        Opt("resend: a number", FetchCsrf, PostJson(Resend, """{"email": 5}""").Expecting(400)),
        Opt("resend: not an address", FetchCsrf, PostJson(Resend, Json(("email", "x"))).Expecting(400)),
        Opt("resend: 262 characters", FetchCsrf, PostJson(Resend, Json(("email", new string('a', 250) + "@example.org"))).Expecting(400)),
        Opt("resend: an address of nobody", FetchCsrf, PostJson(Resend, Json(("email", "nobody@example.org"))).Expecting(200)),
        Opt("resend: a verified address", FetchCsrf, PostJson(Resend, Json(("email", "alice@example.org"))).Expecting(200)),
        Opt("resend: an unverified address in capitals", FetchCsrf, SignedUp("ursula"),
            PostJson(Resend, Json(("email", "URSULA@EXAMPLE.ORG"))).Expecting(200)),
        Opt("resend: a form", FetchCsrf, Post(Resend).WithForm(("email", "nobody@example.org"), ("csrfmiddlewaretoken", Value.CsrfCookie))
            .Expecting(200)),
    ];

    private static IEnumerable<AccountScenario> CurrentUser() =>
    [
        Opt("user: anonymous", WhoAmI.Expecting(403)),
        Opt("user: anonymous PATCH with the token", FetchCsrf, PatchJson(Json(("first_name", "x"))).Expecting(403)),
        Opt("user: PATCH without the token", FetchCsrf, LoginBob, Csrf403(Send("PATCH", User).WithJson("{}"))),
        Opt("user: HEAD is 405", Refused405(Send("HEAD", User))),
        Opt("user: PUT and POST with the token are 405", FetchCsrf, LoginBob,
            Refused405(Send("PUT", User).WithCsrfHeader().WithJson("{}")), Refused405(Post(User).WithCsrfHeader().WithJson("{}"))),
        Opt("user: GET shows the contract's fields", FetchCsrf, LoginBob, WhoAmI.Expecting(200)),
        Opt("user: GET for staff", FetchCsrf, LoginAlice, WhoAmI.Expecting(200)),
        Opt("user: PATCH a first name over 150 characters", FetchCsrf, LoginBob,
            PatchJson(Json(("first_name", new string('f', 151)))).Expecting(400)),
        Opt("user: PATCH a bad address", FetchCsrf, LoginBob, PatchJson(Json(("email", "not-an-address"))).Expecting(400)),
        Opt("user: PATCH a 10,000-character address", FetchCsrf, LoginBob,
            PatchJson(Json(("email", new string('a', 9_988) + "@example.org"))).Expecting(400)),
        Opt("user: PATCH errors in the fields' order", FetchCsrf, LoginBob,
            PatchJson(Json(("last_name", 5), ("email", "nope"), ("first_name", new string('f', 151)))).Expecting(400)),
        Opt("user: PATCH malformed JSON", FetchCsrf, LoginBob, PatchJson("{").Expecting(400)),
        Opt("user: PATCH a JSON array", FetchCsrf, LoginBob, PatchJson("[]").Expecting(400)),
        Opt("user: a refused PATCH changes nothing", FetchCsrf, LoginBob,
            PatchJson(Json(("first_name", "Robert"), ("email", "nope"))).Expecting(400), WhoAmI.Expecting(200)),
        Opt("user: PATCH the same address: still verified", FetchCsrf, LoginBob,
            PatchJson(Json(("email", "bob@example.org"))).Expecting(200)),
        Opt("user: PATCH nothing", FetchCsrf, LoginBob, PatchJson("{}").Expecting(200)),
        Opt("user: PATCH names; username, is_staff and email_verified are ignored", FetchCsrf, SignedUp("pat"),
            PatchJson("""{"first_name": "Pat", "last_name": "Pé", "username": "x", "is_staff": true, "email_verified": true}""")
                .Expecting(200),
            WhoAmI.Expecting(200), LoginAs("pat", GoodPassword).Expecting(200).Differing(Expectation.ReloginIssuesNewSessionKey)),
        Opt("user: PATCH an empty name", FetchCsrf, SignedUp("pat-empty"), PatchJson(Json(("first_name", "P"))).Expecting(200),
            PatchJson(Json(("first_name", ""))).Expecting(200)),
        Opt("user: PATCH a form", FetchCsrf, SignedUp("pat-form"),
            Send("PATCH", User).WithCsrfHeader().WithRawBody("first_name=Form&last_name=Body", "application/x-www-form-urlencoded")
                .Expecting(200)),
        Opt("user: PATCH multipart", FetchCsrf, SignedUp("pat-multi"),
            Send("PATCH", User).WithCsrfHeader().WithMultipart(("last_name", "Multi")).Expecting(200)),
        Opt("user: PATCH a new address: unverified", FetchCsrf, SignedUp("pat-mail"),
            VerifyKey(KeyForSignedUp("pat-mail@example.org")).Expecting(200),
            PatchJson(Json(("email", "pat@new.example"))).Expecting(200), WhoAmI.Expecting(200)),
    ];

    private const string ResetLinkPrefix = "http://app.example/reset/";
    private const string VerifyLinkPrefix = "http://app.example/verify/";

    /// <summary>The uid of the <paramref name="nth"/> reset link e-mailed to the address.</summary>
    private static Value MailedUid(string address, int nth = 1) =>
        new(c => Mailboxes.Link(c, address, ResetLinkPrefix, nth).Split('/')[0]);

    private static Value MailedToken(string address, int nth = 1) =>
        new(c => Mailboxes.Link(c, address, ResetLinkPrefix, nth).Split('/')[1]);

    private static Value MailedKey(string address, int nth = 1) => new(c => Mailboxes.Link(c, address, VerifyLinkPrefix, nth));

    private static ScenarioStep AskReset(string address) => PostJson(Reset, Json(("email", address))).Expecting(200);

    private static ScenarioStep ConfirmMailed(string address, int nth = 1, string password = OtherPassword, string? uidOf = null) =>
        Post(Confirm).WithCsrfHeader().WithJson(new Value(c => Json(("uid", MailedUid(uidOf ?? address, nth).Resolve(c)),
            ("token", MailedToken(address, nth).Resolve(c)), ("new_password1", password), ("new_password2", password))));

    /// <summary>A step that sends nothing new: it checks that no e-mail went to the address, then reads who is signed in.</summary>
    private static ScenarioStep NoMailTo(string address) => WhoAmI.Prepare(c => Mailboxes.AssertNoneTo(c, address));

    private static AccountScenario Mailed(string name, params ScenarioStep[] steps) => On(AccountSetup.Mailed, name, steps);

    private static IEnumerable<AccountScenario> MailedFlows() =>
    [
        Mailed("mailed reset: the link's uid and token set a new password and end every session", FetchCsrf,
            SignedUp("rita").RememberSession("rita"), AskReset("rita@example.org"),
            ConfirmMailed("rita@example.org").Expecting(200),
            WhoAmI.WithSession("rita").Expecting(403),
            LoginAs("rita", GoodPassword).Expecting(401), LoginAs("rita", OtherPassword).Expecting(200)),
        Mailed("mailed reset: the token replayed is refused", FetchCsrf, SignedUp("remy"), AskReset("remy@example.org"),
            Post(Logout).WithCsrfHeader().Expecting(200), FetchCsrf,
            ConfirmMailed("remy@example.org").Expecting(200), ConfirmMailed("remy@example.org", password: "An0ther-0ne!").Expecting(400),
            LoginAs("remy", OtherPassword).Expecting(200)),
        Mailed("mailed reset: a login spends the token", FetchCsrf, SignedUp("lena"), AskReset("lena@example.org"),
            // The token holds the last login to the second: the new login must fall in a later second to spend it.
            Post(Logout).WithCsrfHeader().Expecting(200), FetchCsrf,
            LoginAs("lena", GoodPassword).Prepare(_ => Thread.Sleep(1100)).Expecting(200),
            ConfirmMailed("lena@example.org").Expecting(400), LoginAs("lena", GoodPassword).Expecting(200)
                .Differing(Expectation.ReloginIssuesNewSessionKey)),
        Mailed("mailed reset: a password change spends the token", FetchCsrf, SignedUp("cora"), AskReset("cora@example.org"),
            PostJson(Change, Json(("old_password", GoodPassword), ("new_password1", "Ch4nged-it!"), ("new_password2", "Ch4nged-it!")))
                .Expecting(200),
            ConfirmMailed("cora@example.org").Expecting(400)),
        Mailed("mailed reset: a second request's token works, and spends the first", FetchCsrf, SignedUp("tess"),
            AskReset("tess@example.org"), AskReset("tess@example.org"),
            ConfirmMailed("tess@example.org", nth: 2).Expecting(200), ConfirmMailed("tess@example.org", nth: 1).Expecting(400)),
        Mailed("mailed reset: one user's token with another's uid", FetchCsrf, SignedUp("uma"), SignedUp("ugo"),
            AskReset("uma@example.org"), AskReset("ugo@example.org"),
            ConfirmMailed("uma@example.org", uidOf: "ugo@example.org").Expecting(400),
            LoginAs("ugo", GoodPassword).Expecting(200).Differing(Expectation.ReloginIssuesNewSessionKey),
            LoginAs("uma", GoodPassword).Expecting(200)),
        Mailed("mailed reset: the address is matched ignoring case and the e-mail goes to the stored one", FetchCsrf,
            SignedUp("mixed", email: "Mixed.Case@Example.org"), AskReset("mixed.case@example.ORG"),
            ConfirmMailed("Mixed.Case@Example.org").Expecting(200), LoginAs("mixed", OtherPassword).Expecting(200)),
        Mailed("mailed reset: two users with one address each get a link", FetchCsrf,
            SignedUp("twin1", email: "twins@example.org"), SignedUp("twin2", email: "twins@example.org"),
            AskReset("twins@example.org"),
            ConfirmMailed("twins@example.org", nth: 1).Expecting(200), ConfirmMailed("twins@example.org", nth: 2).Expecting(200),
            LoginAs("twin1", OtherPassword).Expecting(200), LoginAs("twin2", OtherPassword).Expecting(200)),
        Mailed("mailed reset: none for an unknown address", FetchCsrf, AskReset("ghost@example.org"), NoMailTo("ghost@example.org")),
        Mailed("mailed reset: none for a user without a usable password (the seeded user020)", FetchCsrf,
            AskReset("user020@example.org"), NoMailTo("user020@example.org")),
        Mailed("mailed verification: sign-up's key verifies the address", FetchCsrf, SignedUp("vic"),
            VerifyKey(MailedKey("vic@example.org")).Expecting(200), WhoAmI.Expecting(200)),
        Mailed("mailed verification: a new address gets a key of its own; the old one's no longer verifies", FetchCsrf,
            SignedUp("nico"), PatchJson(Json(("email", "nico@new.example"))).Expecting(200),
            VerifyKey(MailedKey("nico@example.org")).Expecting(400), VerifyKey(MailedKey("nico@new.example")).Expecting(200),
            WhoAmI.Expecting(200)),
        Mailed("mailed verification: resend sends another key that verifies", FetchCsrf, SignedUp("rosa"),
            PostJson(Resend, Json(("email", "ROSA@example.org"))).Expecting(200),
            VerifyKey(MailedKey("rosa@example.org", nth: 2)).Expecting(200), WhoAmI.Expecting(200)),
        Mailed("mailed verification: nothing is resent to a verified address", FetchCsrf, SignedUp("vera2", email: "vera2@example.org"),
            VerifyKey(MailedKey("vera2@example.org")).Expecting(200),
            PostJson(Resend, Json(("email", "vera2@example.org"))).Expecting(200),
            WhoAmI.Prepare(c => Mailboxes.AssertLinksTo(c, "vera2@example.org", VerifyLinkPrefix, 1))),
    ];

    private static ScenarioStep SetPassword(string userPath, string json) =>
        Post(userPath + "set_password/").WithCsrfHeader().WithJson(json);

    private static IEnumerable<AccountScenario> StaffSetPassword() =>
    [
        Opt("set_password: anonymous", FetchCsrf, SetPassword(SeededUser(1), Json(("password", GoodPassword))).Expecting(403)),
        Opt("set_password: not staff", FetchCsrf, LoginBob, SetPassword(SeededUser(1), Json(("password", GoodPassword))).Expecting(403)),
        Opt("set_password: not staff, no such user", FetchCsrf, LoginBob, SetPassword("/api/users/99999/", "{}").Expecting(403)),
        Opt("set_password: no such user", FetchCsrf, LoginAlice, SetPassword("/api/users/99999/", Json(("password", GoodPassword)))
            .Expecting(404)),
        Opt("set_password: not an id", FetchCsrf, LoginAlice, SetPassword("/api/users/abc/", Json(("password", GoodPassword)))
            .Expecting(404)),
        Opt("set_password: nothing", FetchCsrf, LoginAlice, SetPassword(SeededUser(1), "{}").Expecting(400)),
        Opt("set_password: empty and null", FetchCsrf, LoginAlice, SetPassword(SeededUser(1), Json(("password", ""))).Expecting(400),
            SetPassword(SeededUser(1), Json(("password", null))).Expecting(400)),
        Opt("set_password: a number", FetchCsrf, LoginAlice, SetPassword(SeededUser(1), """{"password": 12345678}""").Expecting(400)),
        Opt("set_password: true", FetchCsrf, LoginAlice, SetPassword(SeededUser(1), """{"password": true}""").Expecting(400)),
        // Malformed JSON to an /api/ action: ApiDifferentialTests (C) compares it, by status and DRF's "JSON parse error - " prefix.
        Opt("set_password: a JSON array", FetchCsrf, LoginAlice, SetPassword(SeededUser(1), "[]").Expecting(400)),
        Opt("set_password: without the token (DRF's CSRF failure)", FetchCsrf, LoginAlice,
            Post(SeededUser(1) + "set_password/").WithJson(Json(("password", GoodPassword))).Expecting(403)),
        Opt("set_password: GET and PUT are 405", FetchCsrf, LoginAlice, Get(SeededUser(1) + "set_password/").Expecting(405),
            Send("PUT", SeededUser(1) + "set_password/").WithCsrfHeader().WithJson("{}").Expecting(405)),
        Opt("set_password: validator, similar to the username", FetchCsrf, LoginAlice,
            SetPassword(SeededUser(5), Json(("password", "user0055"))).Expecting(400)),
        .. Validators.Skip(2).Select(v => Opt($"set_password: validator, {v.What}", FetchCsrf, LoginAlice,
            SetPassword(SeededUser(5), Json(("password", v.ForSignup))).Expecting(400))),
        Opt("set_password: a password over 4096 characters", FetchCsrf, LoginAlice,
            SetPassword(SeededUser(6), Json(("password", TooLongPassword))).Differing(Expectation.OverlongNewPassword(djangoStatus: 200,
                message: $"Ensure this field has no more than {DjangoPasswordHash.MaxPasswordLength} characters."))),
        Opt("set_password: refusals change nothing", FetchCsrf, LoginAlice,
            SetPassword(SeededUser(7), Json(("password", "1234"))).Expecting(400), LoginAs("user007", "1234").Expecting(401)),
        Opt("set_password: success, then the user logs in with it", FetchCsrf, LoginAlice,
            SetPassword(SeededUser(10), Json(("password", OtherPassword))).Expecting(200),
            LoginAs("user010", OtherPassword).Expecting(200), WhoAmI.Expecting(200)),
        Opt("set_password: a form", FetchCsrf, LoginAlice,
            Post(SeededUser(12) + "set_password/").WithForm(("password", OtherPassword), ("csrfmiddlewaretoken", Value.CsrfCookie))
                .Expecting(200)),
        Opt("set_password: the user's sessions end", FetchCsrf, LoginAlice,
            SetPassword(SeededUser(11), Json(("password", OtherPassword))).Expecting(200),
            LoginAs("user011", OtherPassword).Expecting(200).RememberSession("user011"),
            LoginAlice, SetPassword(SeededUser(11), Json(("password", OtherPassword + "2"))).Expecting(200),
            WhoAmI.WithSession("user011").Expecting(403)),
        Opt("set_password: staff who set their own stay signed in", FetchCsrf, LoginAlice,
            SetPassword($"/api/users/{AliceId}/", Json(("password", "alice-password"))).Expecting(200), WhoAmI.Expecting(200)),
        Opt("users: staff see the account flags", FetchCsrf, LoginAlice, Get(SeededUser(13)).Expecting(200)),
        Opt("users: others do not", FetchCsrf, LoginBob, Get(SeededUser(13)).Expecting(200)),
        Opt("users: the flags are read-only for staff who are not superusers", FetchCsrf, LoginAlice,
            Send("PATCH", SeededUser(13)).WithCsrfHeader().WithJson("""{"is_staff": true, "is_superuser": true, "is_active": false}""")
                .Expecting(200)),
        Opt("users: an address that staff set counts as verified", FetchCsrf, LoginAlice,
            Send("PATCH", SeededUser(14)).WithCsrfHeader().WithJson(Json(("email", "user014@new.example"))).Expecting(200),
            SetPassword(SeededUser(14), Json(("password", OtherPassword))).Expecting(200),
            LoginAs("user014", OtherPassword).Expecting(200), WhoAmI.Expecting(200)),
    ];

    public static ImmutableArray<AccountScenario> All { get; } =
    [
        .. Conventions(), .. PasswordChange(), .. PasswordReset(), .. ResetConfirm(), .. SignupFlows(), .. EmailVerification(),
        .. CurrentUser(), .. StaffSetPassword(), .. MailedFlows(),
    ];

    public static AccountScenario Named(string name) => All.Single(s => s.Scenario.Name == name);
}

/// <summary>
/// A Django peer and a Postern per <see cref="AccountSetup"/>, started on first use, sharing
/// <see cref="AccountScenarios.SecretKey"/> and the frontend's link templates; and Django peers alone, for
/// <see cref="AccountFlowDifferentialTests.DjangoAnswersAsTheScenariosSay"/>.
/// </summary>
public sealed class AccountServers : IAsyncLifetime
{
    private readonly ConcurrentDictionary<AccountSetup, Lazy<Task<ServerPair>>> _pairs = new();
    private readonly ConcurrentDictionary<AccountSetup, Lazy<Task<DjangoPeer>>> _peers = new();

    private readonly ConcurrentBag<SmtpTestServer> _smtpServers = [];

    public Task<ServerPair> PairAsync(AccountSetup setup) =>
        _pairs.GetOrAdd(setup, s => new Lazy<Task<ServerPair>>(() => StartPairAsync(s))).Value;

    public Task<DjangoPeer> PeerAsync(AccountSetup setup) =>
        _peers.GetOrAdd(setup, s => new Lazy<Task<DjangoPeer>>(() => StartPeerAsync(s))).Value;

    private async Task<ServerPair> StartPairAsync(AccountSetup setup)
    {
        if (setup != AccountSetup.Mailed)
            return await ServerPair.StartAsync(PeerEnvironment(setup), PosternSettings(setup));
        var (peerSmtp, posternSmtp) = (await NewSmtpAsync(), await NewSmtpAsync());
        var settings = PosternSettings(setup);
        settings["Postern:Email:SmtpUrl"] = posternSmtp.Url;
        settings["Postern:Email:PollIntervalSeconds"] = "0.2";
        var pair = await ServerPair.StartAsync(PeerEnvironment(setup, peerSmtp), settings);
        Mailboxes.Register(pair.Peer.BaseAddress, peerSmtp);
        Mailboxes.Register(pair.Postern.BaseAddress, posternSmtp);
        return pair;
    }

    private async Task<DjangoPeer> StartPeerAsync(AccountSetup setup)
    {
        var smtp = setup == AccountSetup.Mailed ? await NewSmtpAsync() : null;
        var peer = await DjangoPeer.StartAsync(PeerKind.Modern, PeerEnvironment(setup, smtp));
        if (smtp is not null)
            Mailboxes.Register(peer.BaseAddress, smtp);
        return peer;
    }

    private async Task<SmtpTestServer> NewSmtpAsync()
    {
        var smtp = await SmtpTestServer.StartAsync();
        _smtpServers.Add(smtp);
        return smtp;
    }

    private static Dictionary<string, string> PeerEnvironment(AccountSetup setup, SmtpTestServer? smtp = null)
    {
        var environment = PeerEnvironment(setup);
        if (smtp is not null)
            environment["DJANGO_BACKEND_SMTP_PORT"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return environment;
    }

    private static Dictionary<string, string> PeerEnvironment(AccountSetup setup) => new()
    {
        ["DJANGO_BACKEND_SECRET_KEY"] = AccountScenarios.SecretKey,
        ["DJANGO_BACKEND_SIGNUP_ENABLED"] = setup == AccountSetup.SignupClosed ? "0" : "1",
        ["DJANGO_BACKEND_EMAIL_VERIFICATION"] = Verification(setup),
        ["DJANGO_BACKEND_PASSWORD_RESET_URL"] = AccountScenarios.ResetUrl,
        ["DJANGO_BACKEND_EMAIL_VERIFY_URL"] = AccountScenarios.VerifyUrl,
    };

    private static Dictionary<string, string?> PosternSettings(AccountSetup setup) => new()
    {
        ["Postern:SecretKey"] = AccountScenarios.SecretKey,
        ["Postern:Accounts:SignupEnabled"] = setup == AccountSetup.SignupClosed ? "false" : "true",
        ["Postern:Accounts:EmailVerification"] = Verification(setup),
        ["Postern:Frontend:PasswordResetUrl"] = AccountScenarios.ResetUrl,
        ["Postern:Frontend:EmailVerifyUrl"] = AccountScenarios.VerifyUrl,
    };

    private static string Verification(AccountSetup setup) => setup switch
    {
        AccountSetup.Mandatory => "mandatory",
        AccountSetup.NoVerification => "none",
        _ => "optional",
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var pair in _pairs.Values.Where(p => p.IsValueCreated))
        {
            try
            {
                await (await pair.Value).DisposeAsync();
            }
            catch (InvalidOperationException)
            {
                // This one never started; nothing to stop.
            }
        }
        foreach (var peer in _peers.Values.Where(p => p.IsValueCreated))
        {
            try
            {
                await (await peer.Value).DisposeAsync();
            }
            catch (InvalidOperationException)
            {
            }
        }
        foreach (var smtp in _smtpServers)
            await smtp.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class AccountServersCollectionDefinition : ICollectionFixture<AccountServers>
{
    public const string Name = "Account flows: Django peer and Postern";
}

[Collection(AccountServersCollectionDefinition.Name)]
public sealed class AccountFlowDifferentialTests(AccountServers servers)
{
    public static TheoryData<string> ScenarioNames => [.. AccountScenarios.All.Select(s => s.Scenario.Name)];

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task PosternAnswersAsDjangoDoes(string scenario)
    {
        var played = AccountScenarios.Named(scenario);
        await ScenarioRunner.RunAsync(played.Scenario, await servers.PairAsync(played.Setup));
    }

    /// <summary>Each scenario against Django alone: every step answers the status the scenario says (no Postern needed).</summary>
    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task DjangoAnswersAsTheScenariosSay(string scenario)
    {
        var played = AccountScenarios.Named(scenario);
        var peer = await servers.PeerAsync(played.Setup);
        using var client = peer.CreateRawClient();
        await ScenarioRunner.RunOnPeerOnlyAsync(played.Scenario, client);
    }

    [Fact]
    public void ScenarioNamesAreUnique() =>
        Assert.Equal(AccountScenarios.All.Length, AccountScenarios.All.Select(s => s.Scenario.Name).Distinct().Count());
}
