using System.Text.Json;
using Postern.Testing;

namespace Postern.Cli.Tests;

[CollectionDefinition(Name)]
public sealed class AllauthGroup : ICollectionFixture<AllauthSites>
{
    public const string Name = "allauth";
}

/// <summary><c>postern</c> against real django-allauth: its headless API, its forms, its two-factor step.</summary>
[Collection(AllauthGroup.Name)]
public sealed class AllauthCommandTests(AllauthSites sites) : IDisposable
{
    private readonly CliHome _home = new();

    public static TheoryData<AllauthRelease> Releases => [AllauthRelease.Newest, AllauthRelease.Debian12];

    [Fact]
    public async Task AutoLogsInThroughTheHeadlessApiAndLogoutEndsIt()
    {
        var site = sites.Newest.BaseAddress;
        var login = await _home.LoginAsync(site, "alice");
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Contains("allauth's headless API", login.Stderr, StringComparison.Ordinal);

        var whoami = await _home.RunAsync("whoami");
        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        Assert.Equal("alice", JsonDocument.Parse(whoami.Stdout).RootElement.GetProperty("username").GetString());
        var all = await _home.RunAsync("get", "/api/users/", "--all");
        Assert.Equal(33, JsonDocument.Parse(all.Stdout).RootElement.GetArrayLength());

        await AssertLogoutEndsTheServersSessionAsync(site, "/api/me/");
    }

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task TheLoginPageAsTheUrlIsThatForm(AllauthRelease release)
    {
        var site = sites[release].BaseAddress;
        // By address: allauth takes either in its "login" field.
        var login = await _home.RunAsync(["login", new Uri(site, "/accounts/login/").ToString(), "bob@example.com", "--password-stdin",
            "--whoami-url", "/api/me/"], stdin: "bob-password\n");
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Contains("the login form", login.Stderr, StringComparison.Ordinal);
        var whoami = await _home.RunAsync("whoami");
        Assert.Equal("bob", JsonDocument.Parse(whoami.Stdout).RootElement.GetProperty("username").GetString());

        await AssertLogoutEndsTheServersSessionAsync(site, "/api/me/");
    }

    /// <summary>Logs out, then shows the server ended the session: a copy of the session file kept from before is refused.</summary>
    private async Task AssertLogoutEndsTheServersSessionAsync(Uri site, string signedInOnly)
    {
        var copy = Path.Combine(_home.Folder, "before-logout.json");
        File.Copy(_home.HostSessionFile(site), copy);
        var logout = await _home.RunAsync("logout");
        Assert.True(logout.ExitCode == 0, logout.ToString());
        Assert.False(File.Exists(_home.HostSessionFile(site)));
        var stale = await _home.RunAsync("get", new Uri(site, signedInOnly).ToString(), "--session-file", copy);
        Assert.True(stale.ExitCode == 2, stale.ToString());
        Assert.Contains("session expired", stale.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task AWrongPasswordIsTheFormsOwnWords(AllauthRelease release)
    {
        var wrong = await _home.RunAsync(["login", new Uri(sites[release].BaseAddress, "/accounts/login/").ToString(), "alice",
            "--password-stdin"], stdin: "not-hers\n");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Equal("postern: login failed: The username and/or password you specified are not correct.\n", wrong.Stderr);
    }

    [Fact]
    public async Task TwoFactorWithOtpAndWithout()
    {
        var site = sites.Newest.BaseAddress;
        var without = await _home.RunAsync(["login", site.ToString(), "carol", "--password-stdin"], stdin: "carol-password\n");
        Assert.Equal(2, without.ExitCode);
        Assert.Contains("two-factor authentication required: pass the code with --otp CODE", without.Stderr, StringComparison.Ordinal);

        var with = await _home.RunAsync(["login", site.ToString(), "carol", "--password-stdin", "--otp",
            await sites.Newest.NextUnusedTotpAsync()], stdin: "carol-password\n");
        Assert.True(with.ExitCode == 0, with.ToString());
        var whoami = await _home.RunAsync("whoami");
        Assert.Equal("carol", JsonDocument.Parse(whoami.Stdout).RootElement.GetProperty("username").GetString());
    }

    [Fact]
    public async Task AnErrorLineNamesTheRequestThatFailed()
    {
        var site = sites.Debian12.BaseAddress;
        var seed = await _home.RunAsync(["login", site.ToString(), "alice", "--password-stdin", "--mode", "seed"], stdin: "alice-password\n");
        Assert.Equal(2, seed.ExitCode);
        Assert.StartsWith($"postern: GET {site}auth/csrf: 404 Not Found", seed.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PasswordChangeAndResetThroughTheHeadlessApi()
    {
        var site = sites.Newest;
        const string changed = "Bob-changed-Passw0rd";
        Assert.Equal(0, (await _home.LoginAsync(site.BaseAddress, "bob")).ExitCode);
        var change = await _home.RunAsync(["password", "change", "--password-stdin"], stdin: $"{AllauthPeer.BobPassword}\n{changed}\n");
        try
        {
            Assert.True(change.ExitCode == 0, change.ToString());
            using var other = new CliHome();
            var withNew = await other.RunAsync(["login", site.BaseAddress.ToString(), "bob", "--password-stdin"], stdin: changed + "\n");
            Assert.True(withNew.ExitCode == 0, withNew.ToString());
        }
        finally
        {
            // bob is every test's: his password goes back whatever happened above.
            if (change.ExitCode == 0)
                Assert.Equal(0, (await _home.RunAsync(["password", "change", "--password-stdin"], stdin: $"{changed}\n{AllauthPeer.BobPassword}\n")).ExitCode);
        }

        var reset = await _home.RunAsync("password", "reset", "bob@example.com");
        Assert.True(reset.ExitCode == 0, reset.ToString());
        // Django's console backend prints what the site sent.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!site.ServerOutput.Contains("To: bob@example.com", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Contains("To: bob@example.com", site.ServerOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFormLoginHasNoPasswordCommands()
    {
        var site = sites.Debian12.BaseAddress;
        Assert.Equal(0, (await _home.LoginAsync(site, "bob")).ExitCode);
        var change = await _home.RunAsync(["password", "change", "--password-stdin"], stdin: "bob-password\nAnother-Passw0rd\n");
        Assert.NotEqual(0, change.ExitCode);
        Assert.Contains("not available through a", change.Stderr, StringComparison.Ordinal);
        Assert.Contains("use the site's own pages", change.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _home.Dispose();
}
