using System.Text.Json;
using Postern.Testing;

namespace Postern.Cli.Tests;

/// <summary>
/// Postern with its lockout on (three failures lock an account) and a short reauthentication window, and a site whose
/// logout keeps the session (a fault built on purpose).
/// </summary>
public sealed class GuardedBackend : IAsyncLifetime
{
    public PosternTestServer Server { get; private set; } = null!;
    public SessionKeepingSite KeepingSite { get; private set; } = null!;
    public Uri BaseAddress => Server.BaseAddress;

    public async Task InitializeAsync()
    {
        Server = await GuardedPostern.StartAsync();
        KeepingSite = await SessionKeepingSite.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await KeepingSite.DisposeAsync();
    }
}

/// <summary>
/// <c>postern</c> when the backend wants more than a password (a second factor, a recent password), refuses for a
/// while, or does not end a session; and <c>postern password change|reset</c>.
/// </summary>
public sealed class GuardedCommandTests(GuardedBackend backend) : IClassFixture<GuardedBackend>, IDisposable
{
    private readonly CliHome _home = new();

    public void Dispose() => _home.Dispose();

    /// <summary>A user whose password is USERNAME-password, as <see cref="CliHome.LoginAsync"/> types it.</summary>
    private Task<Postern.Server.Storage.User> CreateUserAsync(string username) => backend.Server.CreateUserAsync(username, username + "-password", email: username + "@example.org");

    [Fact]
    public async Task TwoFactorLoginWithOtpWithoutAndOnATerminal()
    {
        var user = await TwoFactorUser.CreateAsync(backend.Server, "cli-mfa", "cli-mfa-password");
        var now = DateTimeOffset.UtcNow;

        var without = await _home.LoginAsync(backend.BaseAddress, user.Username);
        Assert.True(without.ExitCode == 2, without.ToString());
        Assert.Contains($"postern: POST {backend.BaseAddress}auth/login: two-factor authentication required: pass the code with --otp CODE",
            without.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_home.HostSessionFile(backend.BaseAddress)));

        var wrong = await _home.LoginAsync(backend.BaseAddress, user.Username, "--otp", "000000");
        Assert.True(wrong.ExitCode == 2, wrong.ToString());
        Assert.Contains("login failed: Incorrect code.", wrong.Stderr, StringComparison.Ordinal);

        var withOtp = await _home.LoginAsync(backend.BaseAddress, user.Username, "--otp", user.CodeAt(now));
        Assert.True(withOtp.ExitCode == 0, withOtp.ToString());
        var whoami = await _home.RunAsync("whoami");
        Assert.Equal(user.Username, JsonDocument.Parse(whoami.Stdout).RootElement.GetProperty("username").GetString());

        if (!CliHome.HasTerminal)
            return;
        var code = user.CodeAt(now.AddSeconds(30));
        var prompted = await _home.RunInTerminalAsync($"login {backend.BaseAddress} {user.Username}", user.Password, code);
        Assert.True(prompted.ExitCode == 0, prompted.ToString());
        var prompt = prompted.Stdout.IndexOf($"Two-factor code for {user.Username} at ", StringComparison.Ordinal);
        Assert.True(prompt >= 0, prompted.ToString());
        Assert.DoesNotContain(code, prompted.Stdout[prompt..], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALockedAccountSaysHowLongToWait()
    {
        await CreateUserAsync("cli-locked");
        for (var i = 0; i < GuardedPostern.AccountFailures; i++)
        {
            var wrong = await _home.RunAsync(["login", backend.BaseAddress.ToString(), "cli-locked", "--password-stdin"], stdin: "wrong\n");
            Assert.True(wrong.ExitCode == 2, wrong.ToString());
            Assert.Contains("login failed: Invalid username or password.", wrong.Stderr, StringComparison.Ordinal);
        }

        var locked = await _home.LoginAsync(backend.BaseAddress, "cli-locked");
        Assert.True(locked.ExitCode == 2, locked.ToString());
        Assert.Matches(@$"^postern: POST {backend.BaseAddress}auth/login: 429 Too Many Requests: Request was throttled\. "
            + @"Expected available in (\d+) seconds?\. \(try again in \1 s\)\n$", locked.Stderr);
    }

    [Fact]
    public async Task SensitiveCommandsPastTheWindowAskForThePassword()
    {
        await CreateUserAsync("cli-reauth");
        Assert.Equal(0, (await _home.LoginAsync(backend.BaseAddress, "cli-reauth")).ExitCode);
        await Task.Delay(TimeSpan.FromSeconds(GuardedPostern.ReauthSeconds + 0.5));

        // Not on a terminal: nothing to ask with, so it says what is needed.
        var refused = await _home.RunAsync("token", "create", "late");
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains($"postern: POST {backend.BaseAddress}api/tokens/: reauthentication required", refused.Stderr, StringComparison.Ordinal);

        if (CliHome.HasTerminal)
        {
            var asked = await _home.RunInTerminalAsync("token create asked", "cli-reauth-password");
            Assert.True(asked.ExitCode == 0, asked.ToString());
            var prompt = asked.Stdout.IndexOf($"Confirm your password for {backend.BaseAddress}", StringComparison.Ordinal);
            Assert.True(prompt >= 0, asked.ToString());
            Assert.DoesNotContain("cli-reauth-password", asked.Stdout[prompt..], StringComparison.Ordinal);
            Assert.Contains("shown this once", asked.Stdout, StringComparison.Ordinal);
            await Task.Delay(TimeSpan.FromSeconds(GuardedPostern.ReauthSeconds + 0.5));
        }

        // password change confirms with the current password it was given: no second question.
        var changed = await _home.RunAsync(["password", "change", "--password-stdin"], stdin: "cli-reauth-password\nNew-cli-Passw0rd\n");
        Assert.True(changed.ExitCode == 0, changed.ToString());
        Assert.Contains($"postern: password changed at {backend.BaseAddress}", changed.Stderr, StringComparison.Ordinal);
        // The session goes on (under a new key); the new password is the one that logs in.
        Assert.Equal(0, (await _home.RunAsync("whoami")).ExitCode);
        using var other = new CliHome();
        Assert.Equal(2, (await other.LoginAsync(backend.BaseAddress, "cli-reauth")).ExitCode);
        var again = await other.RunAsync(["login", backend.BaseAddress.ToString(), "cli-reauth", "--password-stdin"], stdin: "New-cli-Passw0rd\n");
        Assert.True(again.ExitCode == 0, again.ToString());
    }

    [Fact]
    public async Task AWrongCurrentPasswordAndAPasswordResetRequest()
    {
        await CreateUserAsync("cli-reset");
        Assert.Equal(0, (await _home.LoginAsync(backend.BaseAddress, "cli-reset")).ExitCode);
        var wrong = await _home.RunAsync(["password", "change", "--password-stdin"], stdin: "not-it\nNew-cli-Passw0rd\n");
        Assert.True(wrong.ExitCode == 2, wrong.ToString());
        Assert.Contains($"postern: POST {backend.BaseAddress}auth/password/change: 400 Bad Request: old_password:", wrong.Stderr, StringComparison.Ordinal);

        var reset = await _home.RunAsync("password", "reset", "cli-reset@example.org");
        Assert.True(reset.ExitCode == 0, reset.ToString());
        Assert.Contains($"postern: asked {backend.BaseAddress} to send a reset link to cli-reset@example.org", reset.Stderr, StringComparison.Ordinal);
        // Nobody's address gets the same answer: it tells nobody whether an account exists.
        var nobody = await _home.RunAsync("password", "reset", "nobody-here@example.org");
        Assert.True(nobody.ExitCode == 0, nobody.ToString());
        var malformed = await _home.RunAsync("password", "reset", "not-an-address");
        Assert.True(malformed.ExitCode == 2, malformed.ToString());
        Assert.Contains("email: Enter a valid email address.", malformed.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALogoutTheServerDidNotDoKeepsTheFile()
    {
        var site = backend.KeepingSite.BaseAddress;
        var login = await _home.LoginAsync(site, SessionKeepingSite.Username, "--mode", "seed");
        Assert.True(login.ExitCode == 0, login.ToString());

        var logout = await _home.RunAsync("logout");
        Assert.True(logout.ExitCode == 2, logout.ToString());
        Assert.Contains($"POST {site}auth/logout: 200 OK, but the server kept the session", logout.Stderr, StringComparison.Ordinal);
        Assert.Contains("its file is kept", logout.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(_home.HostSessionFile(site)));
        // And it is still signed in there, as the message says.
        var whoami = await _home.RunAsync("whoami");
        Assert.True(whoami.ExitCode == 0, whoami.ToString());
    }
}
