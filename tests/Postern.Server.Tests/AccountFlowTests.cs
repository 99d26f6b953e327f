using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Server.Accounts;
using Postern.Server.Sessions;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>A server with sign-up open and verification as each test class needs it.</summary>
public class AccountServerFixture(string verification) : IAsyncLifetime
{
    public PosternTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Accounts:SignupEnabled"] = "true",
            ["Postern:Accounts:EmailVerification"] = verification,
        });
        await Server.SeedLikeDjangoPeerAsync(extraUsers: 0);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class OptionalVerificationServer() : AccountServerFixture("optional");

public sealed class MandatoryVerificationServer() : AccountServerFixture("mandatory");

/// <summary>
/// The account flows of docs/accounts.md against a real server: password change, reset confirm, sign-up, profile, staff
/// set_password and the staff-only account flags. E-mail delivery itself is EmailOutboxTests' and AccountEmailTests'.
/// </summary>
public sealed class AccountFlowTests(OptionalVerificationServer fixture) : IClassFixture<OptionalVerificationServer>
{
    private readonly PosternTestServer _server = fixture.Server;
    private Visitor NewVisitor() => new(_server.CreateRawClient());

    private async Task<Visitor> SignedInAsync(string username, string password = "Fresh-Passw0rd!")
    {
        if (await _server.Users.FindUserByUsernameAsync(username) is null)
            await _server.CreateUserAsync(username, password, email: username + "@example.org");
        var visitor = NewVisitor();
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, password)).Status);
        return visitor;
    }

    private static StringContent Json(object body) => RawHttp.Json(JsonSerializer.Serialize(body));

    private static void AssertErrors(RawResponse response, string expectedJson)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(expectedJson).RootElement, response.Json()), response.Body);
    }

    [Fact]
    public async Task ChangingThePasswordKeepsThisSessionUnderANewKeyAndEndsTheOthers()
    {
        var here = await SignedInAsync("changer");
        var elsewhere = await SignedInAsync("changer");
        var key = here.SessionCookie;
        var token = here.CsrfCookie;

        var response = await here.PostWithTokenAsync(EndpointPaths.PasswordChange,
            Json(new { old_password = "Fresh-Passw0rd!", new_password1 = "Another-Passw0rd", new_password2 = "Another-Passw0rd" }));

        Assert.True(response.Status == HttpStatusCode.OK, response.Body);
        Assert.Equal("New password has been saved.", response.Detail);
        Assert.NotEqual(key, here.SessionCookie);
        Assert.NotEqual(token, here.CsrfCookie);
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync(EndpointPaths.User)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await elsewhere.GetAsync(EndpointPaths.User)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await NewVisitor().LoginAsync("changer", "Fresh-Passw0rd!")).Status);
        Assert.Equal(HttpStatusCode.OK, (await NewVisitor().LoginAsync("changer", "Another-Passw0rd")).Status);
    }

    [Theory]
    [InlineData("""{"old_password": "wrong", "new_password1": "Another-Passw0rd", "new_password2": "Another-Passw0rd"}""",
        """{"old_password": ["Your old password was entered incorrectly. Please enter it again."]}""")]
    [InlineData("""{"old_password": "Fresh-Passw0rd!", "new_password1": "Another-Passw0rd", "new_password2": "Other-Passw0rd"}""",
        """{"new_password2": ["The two password fields didn’t match."]}""")]
    [InlineData("""{"old_password": "Fresh-Passw0rd!", "new_password1": "1234567", "new_password2": "1234567"}""",
        """{"new_password2": ["This password is too short. It must contain at least 8 characters.", "This password is too common.", "This password is entirely numeric."]}""")]
    [InlineData("""{"old_password": "Fresh-Passw0rd!", "new_password1": "refuser-x", "new_password2": "refuser-x"}""",
        """{"new_password2": ["The password is too similar to the username."]}""")]
    [InlineData("{}",
        """{"old_password": ["This field is required."], "new_password1": ["This field is required."], "new_password2": ["This field is required."]}""")]
    [InlineData("""{"old_password": 5, "new_password1": null, "new_password2": ""}""",
        """{"old_password": ["Not a valid string."], "new_password1": ["This field is required."], "new_password2": ["This field is required."]}""")]
    public async Task ARefusedChangeSaysWhyAndChangesNothing(string body, string errors)
    {
        var visitor = await SignedInAsync("refuser");
        var before = (await _server.Users.FindUserByUsernameAsync("refuser"))!.Password;
        var response = await visitor.PostWithTokenAsync(EndpointPaths.PasswordChange, RawHttp.Json(body));
        AssertErrors(response, errors);
        Assert.Equal(before, (await _server.Users.FindUserByUsernameAsync("refuser"))!.Password);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync(EndpointPaths.User)).Status);
    }

    [Fact]
    public async Task ChangingThePasswordNeedsASessionAndTheTokenPair()
    {
        var anonymous = NewVisitor();
        await anonymous.GetAsync(EndpointPaths.Csrf);
        var refused = await anonymous.PostWithTokenAsync(EndpointPaths.PasswordChange, RawHttp.Json("{}"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal(AuthEndpoints.NotAuthenticated, refused.Detail);

        var visitor = await SignedInAsync("csrf-changer");
        var noToken = await visitor.SendAsync(HttpMethod.Post, EndpointPaths.PasswordChange, RawHttp.Json("{}"));
        Assert.Equal(HttpStatusCode.Forbidden, noToken.Status);
        Assert.StartsWith("CSRF Failed", noToken.Detail);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await visitor.GetAsync(EndpointPaths.PasswordChange)).Status);
        AssertMalformed(await visitor.PostWithTokenAsync(EndpointPaths.PasswordChange, RawHttp.Json("[1, 2]")));
        AssertMalformed(await visitor.PostWithTokenAsync(EndpointPaths.PasswordChange, RawHttp.Json("{\"old_password\": ")));
    }

    private static void AssertMalformed(RawResponse response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("Malformed request body.", response.Detail);
    }

    private PasswordResetTokenGenerator Tokens => _server.Services.GetRequiredService<SecretKeyRing>().PasswordResetTokens;

    private async Task<(string Uid, string Token)> ResetLinkAsync(string username, DateTimeOffset? at = null)
    {
        var user = (await _server.Users.FindUserByIdUncachedAsync((await _server.Users.FindUserByUsernameAsync(username))!.Id))!;
        return (ResetUid.Encode(user.Id), Tokens.Make(AccountMailWorker.PasswordResetTokenOf(user), at ?? DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task AResetLinkSetsANewPasswordOnceAndEndsEverySession()
    {
        var signedIn = await SignedInAsync("forgetful");
        var (uid, token) = await ResetLinkAsync("forgetful");
        var anonymous = NewVisitor();
        await anonymous.GetAsync(EndpointPaths.Csrf);
        var body = new { uid, token, new_password1 = "Remembered-0nce", new_password2 = "Remembered-0nce" };

        var reset = await anonymous.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, Json(body));

        Assert.Equal(HttpStatusCode.OK, reset.Status);
        Assert.Equal("Password has been reset with the new password.", reset.Detail);
        Assert.Equal(HttpStatusCode.Forbidden, (await signedIn.GetAsync(EndpointPaths.User)).Status);
        Assert.Equal(HttpStatusCode.OK, (await NewVisitor().LoginAsync("forgetful", "Remembered-0nce")).Status);
        // Spent: the password it was made over is gone.
        AssertErrors(await anonymous.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, Json(body)), """{"token": ["Invalid value"]}""");
    }

    [Fact]
    public async Task AResetTokenDiesWithALoginOrItsAgeAndNamesOnlyItsUser()
    {
        await _server.CreateUserAsync("resetter", "Fresh-Passw0rd!", email: "resetter@example.org");
        var anonymous = NewVisitor();
        await anonymous.GetAsync(EndpointPaths.Csrf);
        object Body(string uid, string token) => new { uid, token, new_password1 = "Remembered-0nce", new_password2 = "Remembered-0nce" };

        var (uid, old) = await ResetLinkAsync("resetter", DateTimeOffset.UtcNow.AddDays(-3).AddMinutes(-1));
        AssertErrors(await anonymous.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, Json(Body(uid, old))), """{"token": ["Invalid value"]}""");

        var (_, fresh) = await ResetLinkAsync("resetter");
        await NewVisitor().LoginAsync("resetter", "Fresh-Passw0rd!");
        AssertErrors(await anonymous.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, Json(Body(uid, fresh))), """{"token": ["Invalid value"]}""");

        var (_, current) = await ResetLinkAsync("resetter");
        var bob = ResetUid.Encode((await _server.Users.FindUserByUsernameAsync("bob"))!.Id);
        AssertErrors(await anonymous.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, Json(Body(bob, current))), """{"token": ["Invalid value"]}""");
        foreach (var badUid in new[] { "!!!", "MA", ResetUid.Encode(999_999), "YWJj" })
            AssertErrors(await anonymous.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, Json(Body(badUid, current))), """{"uid": ["Invalid value"]}""");
        AssertErrors(await anonymous.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, Json(new { uid, token = current, new_password1 = "x", new_password2 = "y" })),
            """{"new_password2": ["The two password fields didn’t match."]}""");
        AssertErrors(await anonymous.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, RawHttp.Json("{}")),
            """{"uid": ["This field is required."], "token": ["This field is required."], "new_password1": ["This field is required."], "new_password2": ["This field is required."]}""");
        // Still good after all that: nothing changed.
        Assert.Equal(HttpStatusCode.OK, (await anonymous.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, Json(Body(uid, current)))).Status);
    }

    [Theory]
    [InlineData("nobody-has-this@example.org")]
    [InlineData("alice@example.org")]
    [InlineData("ALICE@EXAMPLE.ORG")]
    public async Task AResetRequestAnswersTheSameForAnyAddress(string email)
    {
        var visitor = NewVisitor();
        await visitor.GetAsync(EndpointPaths.Csrf);
        var response = await visitor.PostWithTokenAsync(EndpointPaths.PasswordReset, Json(new { email }));
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("""{"detail":"Password reset e-mail has been sent."}""", response.Body);
    }

    [Fact]
    public async Task AResetRequestChecksTheAddress()
    {
        var visitor = NewVisitor();
        await visitor.GetAsync(EndpointPaths.Csrf);
        AssertErrors(await visitor.PostWithTokenAsync(EndpointPaths.PasswordReset, Json(new { email = "not an address" })),
            """{"email": ["Enter a valid email address."]}""");
        AssertErrors(await visitor.PostWithTokenAsync(EndpointPaths.PasswordReset, RawHttp.Json("{}")), """{"email": ["This field is required."]}""");
        var huge = new string('a', 300) + "@example.org";
        var response = await visitor.PostWithTokenAsync(EndpointPaths.PasswordReset, Json(new { email = huge }));
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("Ensure this value has at most 254 characters (it has 312).", response.Body);
    }

    [Fact]
    public async Task SigningUpCreatesAnUnverifiedUserAndSignsIn()
    {
        var visitor = NewVisitor();
        await visitor.GetAsync(EndpointPaths.Csrf);
        var token = visitor.CsrfCookie;
        var response = await visitor.PostWithTokenAsync(EndpointPaths.Signup,
            Json(new { username = "newcomer", email = "New.Comer@Example.ORG", password1 = "Welcome-Aboard1", password2 = "Welcome-Aboard1" }));

        Assert.True(response.Status == HttpStatusCode.Created, response.Body);
        var user = response.Json();
        Assert.Equal("newcomer", user.GetProperty("username").GetString());
        // Django's normalize_email, run by the user model's clean(): the domain lower-cased, the local part kept.
        Assert.Equal("New.Comer@example.org", user.GetProperty("email").GetString());
        Assert.False(user.GetProperty("email_verified").GetBoolean());
        Assert.False(user.GetProperty("is_staff").GetBoolean());
        Assert.NotNull(visitor.SessionCookie);
        Assert.NotEqual(token, visitor.CsrfCookie);
        Assert.Equal("newcomer", (await visitor.GetAsync(EndpointPaths.User)).Json().GetProperty("username").GetString());
    }

    [Fact]
    public async Task SignUpRefusalsAreUserCreationFormsAndCreateNothing()
    {
        var visitor = NewVisitor();
        await visitor.GetAsync(EndpointPaths.Csrf);
        var users = await _server.Users.CountUsersAsync();
        AssertErrors(await visitor.PostWithTokenAsync(EndpointPaths.Signup,
                Json(new { username = "ALICE", email = "a@example.org", password1 = "Welcome-Aboard1", password2 = "Welcome-Aboard1" })),
            """{"username": ["A user with that username already exists."]}""");
        AssertErrors(await visitor.PostWithTokenAsync(EndpointPaths.Signup,
                Json(new { username = "bad name!", email = "nope", password1 = "Welcome-Aboard1", password2 = "Welcome-Aboard2" })),
            """{"username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."], "email": ["Enter a valid email address."], "password2": ["The two password fields didn’t match."]}""");
        AssertErrors(await visitor.PostWithTokenAsync(EndpointPaths.Signup,
                Json(new { username = "carefree", email = "carefree@example.org", password1 = "password", password2 = "password" })),
            """{"password2": ["This password is too common."]}""");
        AssertErrors(await visitor.PostWithTokenAsync(EndpointPaths.Signup,
                Json(new { username = new string('x', 151), email = "x@example.org", password1 = "Welcome-Aboard1", password2 = "Welcome-Aboard1" })),
            """{"username": ["Ensure this value has at most 150 characters (it has 151)."]}""");
        Assert.Equal(users, await _server.Users.CountUsersAsync());
    }

    [Fact]
    public async Task TheProfileChangesOnlyWhatItNamesAndANewAddressIsUnverified()
    {
        var visitor = await SignedInAsync("profiled");
        Assert.True((await visitor.GetAsync(EndpointPaths.User)).Json().GetProperty("email_verified").GetBoolean());

        var named = await visitor.SendAsync(HttpMethod.Patch, EndpointPaths.User, Json(new { first_name = " Ada ", is_staff = true }),
            (HeaderNames.CsrfToken, visitor.CsrfCookie!));
        Assert.Equal(HttpStatusCode.OK, named.Status);
        Assert.Equal("Ada", named.Json().GetProperty("first_name").GetString());
        Assert.False(named.Json().GetProperty("is_staff").GetBoolean());
        Assert.True(named.Json().GetProperty("email_verified").GetBoolean());

        var moved = await visitor.SendAsync(HttpMethod.Patch, EndpointPaths.User, Json(new { email = "Elsewhere@EXAMPLE.org" }),
            (HeaderNames.CsrfToken, visitor.CsrfCookie!));
        Assert.Equal("Elsewhere@example.org", moved.Json().GetProperty("email").GetString());
        Assert.Equal("Ada", moved.Json().GetProperty("first_name").GetString());
        Assert.False(moved.Json().GetProperty("email_verified").GetBoolean());

        AssertErrors(await visitor.SendAsync(HttpMethod.Patch, EndpointPaths.User, Json(new { email = "nope", last_name = new string('y', 151) }),
                (HeaderNames.CsrfToken, visitor.CsrfCookie!)),
            """{"email": ["Enter a valid email address."], "last_name": ["Ensure this value has at most 150 characters (it has 151)."]}""");
    }

    [Fact]
    public async Task AVerificationKeyVerifiesTheAddressItNamesWhileItIsTheUsers()
    {
        var visitor = await SignedInAsync("verifier");
        await visitor.SendAsync(HttpMethod.Patch, EndpointPaths.User, Json(new { email = "new-verifier@example.org" }),
            (HeaderNames.CsrfToken, visitor.CsrfCookie!));
        var user = (await _server.Users.FindUserByUsernameAsync("verifier"))!;
        var keys = _server.Services.GetRequiredService<SecretKeyRing>();
        var key = EmailVerificationKey.Make(keys, user, DateTimeOffset.UtcNow);

        var verified = await visitor.PostWithTokenAsync(EndpointPaths.EmailVerify, Json(new { key }));
        Assert.Equal(HttpStatusCode.OK, verified.Status);
        Assert.Equal("E-mail address verified.", verified.Detail);
        Assert.True((await visitor.GetAsync(EndpointPaths.User)).Json().GetProperty("email_verified").GetBoolean());

        var old = EmailVerificationKey.Make(keys, user, DateTimeOffset.UtcNow.AddDays(-4));
        AssertErrors(await visitor.PostWithTokenAsync(EndpointPaths.EmailVerify, Json(new { key = old })), """{"key": ["Invalid value"]}""");
        AssertErrors(await visitor.PostWithTokenAsync(EndpointPaths.EmailVerify, Json(new { key = key + "x" })), """{"key": ["Invalid value"]}""");
        await visitor.SendAsync(HttpMethod.Patch, EndpointPaths.User, Json(new { email = "third@example.org" }),
            (HeaderNames.CsrfToken, visitor.CsrfCookie!));
        AssertErrors(await visitor.PostWithTokenAsync(EndpointPaths.EmailVerify, Json(new { key })), """{"key": ["Invalid value"]}""");
    }

    private async Task<Visitor> StaffAsync(string name, bool superuser)
    {
        if (await _server.Users.FindUserByUsernameAsync(name) is null)
            await _server.Accounts.CreateUserAsync(name, "Staff-Passw0rd!", name + "@example.org", isStaff: true, isSuperuser: superuser);
        var visitor = NewVisitor();
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(name, "Staff-Passw0rd!")).Status);
        return visitor;
    }

    [Fact]
    public async Task StaffSetAPasswordAndEveryOtherSessionOfThatUserEnds()
    {
        var target = await SignedInAsync("locked-out");
        var id = (await _server.Users.FindUserByUsernameAsync("locked-out"))!.Id;
        var staff = await StaffAsync("helpdesk", superuser: false);
        var path = $"/api/users/{id}/set_password/";

        AssertErrors(await staff.PostWithTokenAsync(path, Json(new { password = "locked-out" })),
            """{"password": ["The password is too similar to the username."]}""");
        Assert.Equal(HttpStatusCode.Forbidden, (await target.PostWithTokenAsync(path, Json(new { password = "Given-Passw0rd" }))).Status);
        var set = await staff.PostWithTokenAsync(path, Json(new { password = "Given-Passw0rd" }));
        Assert.Equal(HttpStatusCode.OK, set.Status);
        Assert.Equal("""{"status":"password set"}""", set.Body);
        Assert.Equal(HttpStatusCode.Forbidden, (await target.GetAsync(EndpointPaths.User)).Status);
        Assert.Equal(HttpStatusCode.OK, (await NewVisitor().LoginAsync("locked-out", "Given-Passw0rd")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await staff.PostWithTokenAsync("/api/users/999999/set_password/", Json(new { password = "Given-Passw0rd" }))).Status);
    }

    [Fact]
    public async Task TheAccountFlagsShowToStaffAndOnlySuperusersSetThem()
    {
        var member = await SignedInAsync("plain-member");
        var id = (await _server.Users.FindUserByUsernameAsync("plain-member"))!.Id;
        var path = $"/api/users/{id}/";
        Assert.False((await member.GetAsync(path)).Json().TryGetProperty("is_staff", out _));

        var staff = await StaffAsync("flag-reader", superuser: false);
        var seen = (await staff.GetAsync(path)).Json();
        Assert.True(seen.GetProperty("is_active").GetBoolean());
        Assert.False(seen.GetProperty("is_staff").GetBoolean());
        var ignored = await staff.SendAsync(HttpMethod.Patch, path, Json(new { is_staff = true }), (HeaderNames.CsrfToken, staff.CsrfCookie!));
        Assert.Equal(HttpStatusCode.OK, ignored.Status);
        Assert.False(ignored.Json().GetProperty("is_staff").GetBoolean());

        var root = await StaffAsync("flag-writer", superuser: true);
        var promoted = await root.SendAsync(HttpMethod.Patch, path, Json(new { is_staff = true }), (HeaderNames.CsrfToken, root.CsrfCookie!));
        Assert.True(promoted.Json().GetProperty("is_staff").GetBoolean());
        var deactivated = await root.SendAsync(HttpMethod.Patch, path, Json(new { is_active = false }), (HeaderNames.CsrfToken, root.CsrfCookie!));
        Assert.False(deactivated.Json().GetProperty("is_active").GetBoolean());
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync(EndpointPaths.User)).Status);
    }

    [Fact]
    public async Task OnlyASuperuserChangesDeletesOrSetsThePasswordOfASuperuser()
    {
        var root = await StaffAsync("guarded-root", superuser: true);
        var id = (await _server.Users.FindUserByUsernameAsync("guarded-root"))!.Id;
        var path = $"/api/users/{id}/";
        var staff = await StaffAsync("ambitious-staff", superuser: false);

        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync(path)).Status);
        foreach (var (method, target, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Patch, path, new { email = "mine@example.org" }),
            (HttpMethod.Put, path, new { username = "guarded-root" }),
            (HttpMethod.Delete, path, null),
            (HttpMethod.Post, path + "set_password/", new { password = "Taken-Over-42" }),
        })
        {
            var refused = await staff.SendAsync(method, target, body is null ? null : Json(body), (HeaderNames.CsrfToken, staff.CsrfCookie!));
            Assert.True(refused.Status == HttpStatusCode.Forbidden, $"{method} {target}: {refused.Status} {refused.Body}");
            Assert.Equal("You do not have permission to perform this action.", refused.Detail);
        }
        Assert.Equal(HttpStatusCode.OK, (await root.GetAsync(EndpointPaths.User)).Status);
        Assert.Equal("guarded-root@example.org", (await _server.Users.FindUserByIdAsync(id))!.Email);

        // Another superuser may.
        var other = await StaffAsync("second-root", superuser: true);
        var set = await other.SendAsync(HttpMethod.Post, path + "set_password/", Json(new { password = "Handed-Over-42" }),
            (HeaderNames.CsrfToken, other.CsrfCookie!));
        Assert.Equal(HttpStatusCode.OK, set.Status);
    }
}

/// <summary>Mandatory verification: sign-up does not sign in, and a right password is refused until the address is verified.</summary>
public sealed class MandatoryVerificationTests(MandatoryVerificationServer fixture) : IClassFixture<MandatoryVerificationServer>
{
    private readonly PosternTestServer _server = fixture.Server;

    [Fact]
    public async Task LoginWaitsForTheAddressToBeVerified()
    {
        var visitor = new Visitor(_server.CreateRawClient());
        await visitor.GetAsync(EndpointPaths.Csrf);
        var signup = await visitor.PostWithTokenAsync(EndpointPaths.Signup, RawHttp.Json(
            """{"username": "careful", "email": "careful@example.org", "password1": "Welcome-Aboard1", "password2": "Welcome-Aboard1"}"""));
        Assert.Equal(HttpStatusCode.Created, signup.Status);
        Assert.Null(visitor.SessionCookie);

        var refused = await visitor.LoginAsync("careful", "Welcome-Aboard1");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("E-mail is not verified.", refused.Detail);
        Assert.Equal(HttpStatusCode.Unauthorized, (await visitor.LoginAsync("careful", "wrong")).Status);
        Assert.Null((await _server.Users.FindUserByUsernameAsync("careful"))!.LastLogin);

        var user = (await _server.Users.FindUserByUsernameAsync("careful"))!;
        var key = EmailVerificationKey.Make(_server.Services.GetRequiredService<SecretKeyRing>(), user, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.OK, (await visitor.PostWithTokenAsync(EndpointPaths.EmailVerify, RawHttp.Json($$"""{"key": "{{key}}"}"""))).Status);
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("careful", "Welcome-Aboard1")).Status);
        // Users staff created (alice here) were never asked to verify.
        Assert.Equal(HttpStatusCode.OK, (await new Visitor(_server.CreateRawClient()).LoginAsync("alice", "alice-password")).Status);
    }
}

/// <summary>Sign-up is closed unless configured open.</summary>
public sealed class ClosedSignupTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task SignUpIsClosedByDefault()
    {
        var visitor = new Visitor(fixture.Server.CreateRawClient());
        await visitor.GetAsync(EndpointPaths.Csrf);
        var response = await visitor.PostWithTokenAsync(EndpointPaths.Signup, RawHttp.Json(
            """{"username": "intruder", "email": "i@example.org", "password1": "Welcome-Aboard1", "password2": "Welcome-Aboard1"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("Sign-up is closed.", response.Detail);
        Assert.Null(await fixture.Server.Users.FindUserByUsernameAsync("intruder"));
    }
}
