using System.Text.Json;

namespace Postern.Cli.Tests;

/// <summary><c>postern login URL --token</c>, <c>POSTERN_TOKEN</c> and <c>postern token</c>, the real process against a real Postern.</summary>
[Collection(PosternGroup.Name)]
public sealed class ApiTokenCommandTests(PosternBackend backend) : IDisposable
{
    private readonly CliHome _home = new();

    public void Dispose() => _home.Dispose();

    /// <summary>A new token of alice's, made through the command line with her password login.</summary>
    private async Task<JsonElement> CreateTokenAsync(string name)
    {
        using var maker = new CliHome();
        Assert.Equal(0, (await maker.LoginAsync(backend.BaseAddress, "alice")).ExitCode);
        var created = await maker.RunAsync("token", "create", name);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("shown this once", created.Stderr, StringComparison.Ordinal);
        return JsonDocument.Parse(created.Stdout).RootElement.Clone();
    }

    [Fact]
    public async Task LoginWithATokenFromStdinSavesItAndOtherCommandsUseIt()
    {
        var key = (await CreateTokenAsync("cli stdin")).GetProperty("key").GetString()!;

        var login = await _home.RunAsync(["login", backend.BaseAddress.ToString(), "--token"], stdin: key + "\n");

        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Contains("as alice with an API token", login.Stderr, StringComparison.Ordinal);
        var file = _home.HostSessionFile(backend.BaseAddress);
        Assert.Contains(key, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var whoami = await _home.RunAsync("whoami");
        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        Assert.Equal("alice", JsonDocument.Parse(whoami.Stdout).RootElement.GetProperty("username").GetString());
        var post = await _home.RunAsync("post", "/api/groups/", "name=cli-token-group");
        Assert.True(post.ExitCode == 0, post.ToString());

        // A token cannot make tokens: a clear refusal, exit 2.
        var child = await _home.RunAsync("token", "create", "child");
        Assert.Equal(2, child.ExitCode);
        Assert.Contains("An API token cannot create API tokens", child.Stderr, StringComparison.Ordinal);

        var logout = await _home.RunAsync("logout");
        Assert.True(logout.ExitCode == 0, logout.ToString());
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task LoginWithTheTokenAsTheOptionsValueOrFromTheEnvironment()
    {
        var key = (await CreateTokenAsync("cli value")).GetProperty("key").GetString()!;

        var byValue = await _home.RunAsync("login", backend.BaseAddress.ToString(), "--token", key);
        Assert.True(byValue.ExitCode == 0, byValue.ToString());

        using var other = new CliHome();
        var byEnvironment = await other.RunAsync(["login", backend.BaseAddress.ToString(), "--token"], stdin: null,
            new Dictionary<string, string> { ["POSTERN_TOKEN"] = key });
        Assert.True(byEnvironment.ExitCode == 0, byEnvironment.ToString());

        // Without any login, POSTERN_TOKEN authenticates a request to an absolute URL.
        using var none = new CliHome();
        var anonymousWithToken = await none.RunAsync([
            "get", new Uri(backend.BaseAddress, "/auth/user").ToString()], stdin: null,
            new Dictionary<string, string> { ["POSTERN_TOKEN"] = key });
        Assert.True(anonymousWithToken.ExitCode == 0, anonymousWithToken.ToString());
        Assert.Equal("alice", JsonDocument.Parse(anonymousWithToken.Stdout).RootElement.GetProperty("username").GetString());
    }

    [Fact]
    public async Task ABadTokenFailsTheLoginWithExitCode2()
    {
        var login = await _home.RunAsync("login", backend.BaseAddress.ToString(), "--token", new string('0', 40));

        Assert.Equal(2, login.ExitCode);
        Assert.Equal("postern: login failed: the API token was refused: Invalid token.\n", login.Stderr);
        Assert.False(File.Exists(_home.HostSessionFile(backend.BaseAddress)));
    }

    [Fact]
    public async Task ARevokedTokenSaysSoAndTokensAreListedAndRevoked()
    {
        var token = await CreateTokenAsync("cli revoked");
        var key = token.GetProperty("key").GetString()!;
        Assert.Equal(0, (await _home.RunAsync("login", backend.BaseAddress.ToString(), "--token", key)).ExitCode);

        using var alice = new CliHome();
        Assert.Equal(0, (await alice.LoginAsync(backend.BaseAddress, "alice")).ExitCode);
        var list = await alice.RunAsync("token", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        var listed = JsonDocument.Parse(list.Stdout).RootElement;
        Assert.Contains(listed.EnumerateArray(), t => t.GetProperty("url").GetString() == token.GetProperty("url").GetString());
        Assert.DoesNotContain(key, list.Stdout, StringComparison.Ordinal);
        var id = token.GetProperty("url").GetString()!.TrimEnd('/').Split('/')[^1];
        var revoke = await alice.RunAsync("token", "revoke", id);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());

        var refused = await _home.RunAsync("get", "/api/users/");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("API token refused: Invalid token.", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenAndUsernameDoNotMix()
    {
        var both = await _home.RunAsync("login", backend.BaseAddress.ToString(), "alice", "--token", new string('0', 40));
        Assert.Equal(1, both.ExitCode);
        var neither = await _home.RunAsync("login", backend.BaseAddress.ToString());
        Assert.Equal(1, neither.ExitCode);
        Assert.Contains("USERNAME (or --token)", neither.Stderr, StringComparison.Ordinal);
    }
}
