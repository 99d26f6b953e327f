using System.Net;
using System.Text.RegularExpressions;
using Postern.Testing;

namespace Postern.Client.Tests;

/// <summary>
/// Postern and both Django reference backends with sign-up open, reset and verification links pointing at a frontend,
/// and their e-mail going to one real SMTP server: what the account methods need to be tried end to end.
/// </summary>
public sealed class AccountBackends : IAsyncLifetime
{
    public const string ResetUrl = "https://app.example.com/reset/{uid}/{token}";
    public const string VerifyUrl = "https://app.example.com/verify/{key}";

    public SmtpTestServer Smtp { get; private set; } = null!;
    private PosternTestServer _postern = null!;
    private DjangoPeer _modern = null!;
    private DjangoPeer _legacy = null!;

    public async Task InitializeAsync()
    {
        Smtp = await SmtpTestServer.StartAsync();
        var django = new Dictionary<string, string>
        {
            ["DJANGO_BACKEND_SIGNUP_ENABLED"] = "1",
            ["DJANGO_BACKEND_SMTP_PORT"] = Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["DJANGO_BACKEND_PASSWORD_RESET_URL"] = ResetUrl,
            ["DJANGO_BACKEND_EMAIL_VERIFY_URL"] = VerifyUrl,
        };
        var modern = DjangoPeer.StartAsync(PeerKind.Modern, django);
        var legacy = DjangoPeer.StartAsync(PeerKind.Legacy, django);
        _postern = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Accounts:SignupEnabled"] = "true",
            ["Postern:Frontend:PasswordResetUrl"] = ResetUrl,
            ["Postern:Frontend:EmailVerifyUrl"] = VerifyUrl,
            ["Postern:Email:SmtpUrl"] = Smtp.Url,
            ["Postern:Email:PollIntervalSeconds"] = "0.2",
        });
        await _postern.SeedLikeDjangoPeerAsync(extraUsers: 0);
        _modern = await modern;
        _legacy = await legacy;
    }

    public Uri this[string name] => name switch
    {
        "postern" => _postern.BaseAddress,
        "django52" => _modern.BaseAddress,
        "django32" => _legacy.BaseAddress,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    public async Task DisposeAsync()
    {
        await _postern.DisposeAsync();
        await _modern.DisposeAsync();
        await _legacy.DisposeAsync();
        await Smtp.DisposeAsync();
    }
}

/// <summary>The account methods of <see cref="PosternSession"/>: the same calls against Postern and both Django versions.</summary>
public sealed partial class AccountTests(AccountBackends backends) : IClassFixture<AccountBackends>
{
    private const string Password = "Fresh-Passw0rd!";
    private const string NewPassword = "Remembered-0nce";

    public static TheoryData<string> All => new() { "postern", "django52", "django32" };

    private PosternSession NewSession(string backend) => new(backends[backend]);

    /// <summary>A username and address no other test (or backend) uses.</summary>
    private static (string Username, string Email) Fresh(string backend, string what)
    {
        var username = $"{what}-{backend}-{Guid.NewGuid():N}"[..30];
        return (username, username + "@example.org");
    }

    /// <summary>The link to <paramref name="page"/> (reset or verify) in the e-mail sent to <paramref name="email"/>.</summary>
    private async Task<string> LinkSentToAsync(string email, string page)
    {
        var prefix = $"https://app.example.com/{page}/";
        var message = await backends.Smtp.WaitForMessageAsync(
            m => m.To.Mailboxes.Any(a => a.Address == email) && (m.TextBody ?? "").Contains(prefix, StringComparison.Ordinal),
            TimeSpan.FromSeconds(30));
        return Link().Matches(message.TextBody ?? "").Select(m => m.Value).First(l => l.StartsWith(prefix, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"https://app\.example\.com/\S+")]
    private static partial Regex Link();

    [Theory]
    [MemberData(nameof(All))]
    public async Task SignUpChangeTheProfileAndThePasswordAndStaySignedIn(string backend)
    {
        var (username, email) = Fresh(backend, "sign");
        using var session = NewSession(backend);
        var created = await session.SignUpAsync(username, email, Password);
        Assert.Equal((username, email, false), (created.Username, created.Email, created.EmailVerified));
        Assert.True(session.HasSession);

        var changed = await session.UpdateProfileAsync(new ProfileChanges(FirstName: "Ada", LastName: "Lovelace"));
        Assert.Equal(("Ada", "Lovelace", email), (changed.FirstName, changed.LastName, changed.Email));

        var refused = await Assert.ThrowsAsync<ValidationException>(() => session.ChangePasswordAsync("not-it", NewPassword));
        Assert.Equal(["Your old password was entered incorrectly. Please enter it again."], refused.FieldErrors["old_password"]);
        var weak = await Assert.ThrowsAsync<ValidationException>(() => session.ChangePasswordAsync(Password, "123"));
        Assert.Contains("This password is entirely numeric.", weak.FieldErrors["new_password2"]);

        await session.ChangePasswordAsync(Password, NewPassword);
        Assert.Equal(username, (await session.WhoAmIAsync()).Username);
        using var again = NewSession(backend);
        await Assert.ThrowsAsync<InvalidCredentialsException>(() => again.LoginAsync(username, Password));
        await again.LoginAsync(username, NewPassword);

        var taken = await Assert.ThrowsAsync<ValidationException>(() => NewSession(backend).SignUpAsync(username, email, Password));
        Assert.Equal(["A user with that username already exists."], taken.FieldErrors["username"]);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task ResetAForgottenPasswordWithTheEmailedLink(string backend)
    {
        var (username, email) = Fresh(backend, "reset");
        using (var signup = NewSession(backend))
            await signup.SignUpAsync(username, email, Password);

        using var session = NewSession(backend);
        var asked = await session.RequestPasswordResetAsync(email.ToUpperInvariant());
        Assert.Equal("Password reset e-mail has been sent.", asked.Detail);
        var link = await LinkSentToAsync(email, "reset");
        var parts = Regex.Match(link, "/reset/([^/]+)/([^/?#]+)$");
        Assert.True(parts.Success, link);

        var wrong = await Assert.ThrowsAsync<ValidationException>(() =>
            session.ConfirmPasswordResetAsync(parts.Groups[1].Value, "bad-token", NewPassword));
        Assert.Equal(["Invalid value"], wrong.FieldErrors["token"]);
        var done = await session.ConfirmPasswordResetAsync(parts.Groups[1].Value, parts.Groups[2].Value, NewPassword);
        Assert.Equal("Password has been reset with the new password.", done.Detail);

        await session.LoginAsync(username, NewPassword);
        // Spent: the password it was made for has changed.
        using var replay = NewSession(backend);
        var spent = await Assert.ThrowsAsync<ValidationException>(() =>
            replay.ConfirmPasswordResetAsync(parts.Groups[1].Value, parts.Groups[2].Value, "Another-0ne!"));
        Assert.Equal(["Invalid value"], spent.FieldErrors["token"]);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task VerifyTheAddressWithTheEmailedKey(string backend)
    {
        var (username, email) = Fresh(backend, "verify");
        using var session = NewSession(backend);
        await session.SignUpAsync(username, email, Password);
        var key = Uri.UnescapeDataString((await LinkSentToAsync(email, "verify"))[(AccountBackends.VerifyUrl.Length - "{key}".Length)..]);

        await Assert.ThrowsAsync<ValidationException>(() => session.VerifyEmailAsync(key + "x"));
        Assert.Equal("E-mail address verified.", (await session.VerifyEmailAsync(key)).Detail);
        Assert.True((await session.WhoAmIAsync()).EmailVerified);
        Assert.Equal("Verification e-mail sent.", (await session.ResendEmailVerificationAsync(email)).Detail);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task StaffSetAPasswordAndOthersMayNot(string backend)
    {
        var (username, email) = Fresh(backend, "staffset");
        string url;
        using (var user = NewSession(backend))
            url = (await user.SignUpAsync(username, email, Password)).Url!;

        using var bob = NewSession(backend);
        await bob.LoginAsync("bob", "bob-password");
        await Assert.ThrowsAsync<PermissionDeniedException>(() => bob.SetUserPasswordAsync(url, NewPassword));

        using var alice = NewSession(backend);
        await alice.LoginAsync("alice", "alice-password");
        var weak = await Assert.ThrowsAsync<ValidationException>(() => alice.SetUserPasswordAsync(url, "short"));
        Assert.Contains("This password is too short. It must contain at least 8 characters.", weak.FieldErrors["password"]);
        var set = await alice.SetUserPasswordAsync(url, NewPassword);
        Assert.Equal("password set", set.GetProperty("status").GetString());
        using var again = NewSession(backend);
        await again.LoginAsync(username, NewPassword);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task AnUnknownAddressIsAnsweredTheSameWay(string backend)
    {
        using var session = NewSession(backend);
        Assert.Equal("Password reset e-mail has been sent.",
            (await session.RequestPasswordResetAsync($"nobody-{Guid.NewGuid():N}@example.org")).Detail);
        var invalid = await Assert.ThrowsAsync<ValidationException>(() => session.RequestPasswordResetAsync("not an address"));
        Assert.Equal(["Enter a valid email address."], invalid.FieldErrors["email"]);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
    }
}
