using System.Text.Json;
using Postern.Testing;

namespace Postern.Cli.Tests;

/// <summary>Usage errors, transport failures and terminal detection: no backend needed, so these run beside the others.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly CliHome _home = new();

    public void Dispose() => _home.Dispose();

    /// <summary>Command lines, split on spaces.</summary>
    public static TheoryData<string> UsageErrors => new()
    {
        "",
        "frobnicate",
        "get",
        "get /api/ --print=x",
        "get /api/ notanitem",
        "get /api/ name=body-on-a-get",
        "post /api/groups/ name=x --json {}",
        "post /api/groups/ --json {not-json",
        "post /api/groups/ count:=not-json",
        "get /api/ --session a --session-file /tmp/b.json",
        "get /api/ --session ../escape",
        "get /api/ --timeout -1",
        "login ftp://example.org/ alice --password-stdin",
    };

    /// <summary>
    /// In-process (the parser and the checks before any request), to keep the matrix fast; the process-level exit code
    /// is checked below.
    /// </summary>
    [Theory]
    [MemberData(nameof(UsageErrors))]
    public async Task AUsageErrorExitsWith1AndOneLineOnStderr(string commandLine)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var environment = new Dictionary<string, string> { ["XDG_CONFIG_HOME"] = _home.ConfigHome };
        var terminal = new Terminal(new StringReader("password\n"), stdout, stderr,
            inputIsTerminal: false, outputIsTerminal: false, errorIsTerminal: false,
            name => environment.GetValueOrDefault(name));
        var exitCode = await PosternCommandLine.RunAsync(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries), terminal);
        var result = new CliResult(exitCode, stdout.ToString(), stderr.ToString());
        AssertUsageError(result);
    }

    [Fact]
    public async Task TheProcessExitsWith1OnAUsageError()
    {
        AssertUsageError(await _home.RunAsync());
        AssertUsageError(await _home.RunAsync("frobnicate"));
        AssertUsageError(await _home.RunAsync("get", "/api/", "--print=x"));
    }

    private static void AssertUsageError(CliResult result)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("postern: ", result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task ARelativePathWithoutALoginSaysSo()
    {
        var result = await _home.RunAsync("get", "/api/");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("postern: not logged in: run postern login BASE_URL USERNAME first (or give an absolute URL)\n", result.Stderr);
    }

    [Fact]
    public async Task AClosedPortIsATransportFailure()
    {
        var closed = new Uri($"http://127.0.0.1:{DjangoPeer.FreePort()}/");
        var get = await _home.RunAsync("get", new Uri(closed, "/api/").ToString());
        Assert.Equal(4, get.ExitCode);
        Assert.StartsWith($"postern: Cannot reach {closed}api/", get.Stderr);
        Assert.Single(get.Stderr.TrimEnd('\n').Split('\n'));

        var login = await _home.LoginAsync(closed, "alice");
        Assert.Equal(4, login.ExitCode);
        Assert.DoesNotContain("   at ", login.Stderr); // no stack trace
        Assert.False(Directory.Exists(_home.SessionsFolder) && Directory.EnumerateFiles(_home.SessionsFolder).Any());
    }

    [Fact]
    public async Task LoginRefusesToPromptWhenStdinIsNotATerminal()
    {
        var result = await _home.RunAsync(["login", "http://127.0.0.1:9/", "alice"], stdin: "alice-password\n");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            "postern: cannot prompt for a password: standard input is not a terminal (pipe the password in with --password-stdin)\n",
            result.Stderr);
    }

    [Fact]
    public async Task HelpGoesToStdoutAndSucceeds()
    {
        var help = await _home.RunAsync("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "login", "get", "post", "put", "patch", "delete", "whoami", "logout", "token" })
            Assert.Contains(command, help.Stdout);
        // The list of commands marks optional arguments as their own usage lines do.
        var lines = help.Stdout.Split('\n').Select(l => l.Trim()).ToList();
        // USERNAME is left out with --token.
        Assert.Contains(lines, l => l.StartsWith("login <BASE_URL> [<USERNAME>] ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("get <URL|PATH> [<ITEMS>...] ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("whoami [<BASE_URL>] ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("logout [<BASE_URL>] ", StringComparison.Ordinal));
        var get = await _home.RunAsync("get", "--help");
        Assert.Equal(0, get.ExitCode);
        Assert.Contains("--all", get.Stdout);
        Assert.Contains("--print", get.Stdout);
    }
}

/// <summary>What the client decides alone (which session, which body, which colours): one backend is enough.</summary>
[Collection(PosternGroup.Name)]
public sealed class PosternOnlyTests(PosternBackend backend) : IDisposable
{
    private readonly CliHome _home = new();

    public void Dispose() => _home.Dispose();

    private static JsonElement Json(string text) => CommandsAgainstABackend.Json(text);

    /// <summary>Sessions are the client's business, so one backend will do.</summary>
    [Fact]
    public async Task NamedSessionsKeepTwoUsersApart()
    {
        Assert.Equal(0, (await _home.LoginAsync(backend.BaseAddress, "alice", "--session", "admin")).ExitCode);
        Assert.Equal(0, (await _home.LoginAsync(backend.BaseAddress, "bob", "--session", "reader")).ExitCode);
        Assert.True(File.Exists(Path.Combine(_home.SessionsFolder, "admin.json")));
        Assert.True(File.Exists(Path.Combine(_home.SessionsFolder, "reader.json")));

        Assert.Equal("alice", Json((await _home.RunAsync("whoami", "--session", "admin")).Stdout).GetProperty("username").GetString());
        Assert.Equal("bob", Json((await _home.RunAsync("whoami", "--session", "reader")).Stdout).GetProperty("username").GetString());

        var refused = await _home.RunAsync("post", "/api/groups/", "name=x", "--session", "reader");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains(CommandsAgainstABackend.PermissionDenied, refused.Stderr);
    }


    [Fact]
    public async Task AnAbsoluteUrlUsesTheSessionOfItsHost()
    {
        await using var other = await PosternTestServer.StartAsync();
        await other.CreateUserAsync("carol", "carol-password");
        Assert.Equal(0, (await _home.LoginAsync(backend.BaseAddress, "alice")).ExitCode);
        Assert.Equal(0, (await _home.LoginAsync(other.BaseAddress, "carol")).ExitCode);

        var onFirst = await _home.RunAsync("get", new Uri(backend.BaseAddress, "/auth/user").ToString());
        Assert.Equal("alice", Json(onFirst.Stdout).GetProperty("username").GetString());
        var onOther = await _home.RunAsync("get", new Uri(other.BaseAddress, "/auth/user").ToString());
        Assert.Equal("carol", Json(onOther.Stdout).GetProperty("username").GetString());
        // A path goes to the host logged into last; whoami BASE_URL picks a host.
        Assert.Equal("carol", Json((await _home.RunAsync("whoami")).Stdout).GetProperty("username").GetString());
        Assert.Equal("alice",
            Json((await _home.RunAsync("whoami", backend.BaseAddress.ToString())).Stdout).GetProperty("username").GetString());
    }

    [Fact]
    public async Task RawJsonItemsAndJsonFromAFileOrStdin()
    {
        Assert.Equal(0, (await _home.LoginAsync(backend.BaseAddress, "alice")).ExitCode);

        // name:=[1] sends a list, not the string "[1]": the server's validation says so.
        var list = await _home.RunAsync("post", "/api/groups/", "name:=[1]");
        Assert.Equal(2, list.ExitCode);
        Assert.StartsWith($"postern: POST {backend.BaseAddress}api/groups/: 400 Bad Request: name: ", list.Stderr);

        var fromFile = Path.Combine(_home.Folder, "group.json");
        var name = "file-" + Guid.NewGuid().ToString("N")[..8];
        await File.WriteAllTextAsync(fromFile, $$"""{"name": "{{name}}"}""");
        var created = await _home.RunAsync("post", "/api/groups/", "--json", "@" + fromFile);
        Assert.True(created.ExitCode == 0, created.ToString());
        var url = Json(created.Stdout).GetProperty("url").GetString()!;

        var renamed = await _home.RunAsync(["patch", url, "--json", "@-"], stdin: $$"""{"name": "{{name}}-ü"}""");
        Assert.True(renamed.ExitCode == 0, renamed.ToString());
        Assert.Equal(name + "-ü", Json(renamed.Stdout).GetProperty("name").GetString());
        Assert.Contains($"\"{name}-ü\"", renamed.Stdout); // readable, not \u-escaped

        var replaced = await _home.RunAsync("put", url, $"name={name}-put");
        Assert.Equal(name + "-put", Json(replaced.Stdout).GetProperty("name").GetString());
        Assert.Equal(0, (await _home.RunAsync("delete", url)).ExitCode);
    }

    [Fact]
    public async Task ColoursOnlyWhenAskedForAndNeverWithNoColor()
    {
        Assert.Equal(0, (await _home.LoginAsync(backend.BaseAddress, "bob")).ExitCode);
        var piped = await _home.RunAsync("whoami");
        Assert.DoesNotContain('\u001b', piped.Stdout);

        var forced = await _home.RunAsync(["whoami"], stdin: null, new Dictionary<string, string> { ["FORCE_COLOR"] = "1" });
        Assert.Contains("\u001b[", forced.Stdout);

        var noColor = await _home.RunAsync(["whoami", "--print=hb"], stdin: null,
            new Dictionary<string, string> { ["FORCE_COLOR"] = "1", ["NO_COLOR"] = "1" });
        Assert.DoesNotContain('\u001b', noColor.Stdout);
    }

    [Fact]
    public async Task ASessionFileAnywhere()
    {
        var file = Path.Combine(_home.Folder, "elsewhere", "bob.session");
        Assert.Equal(0, (await _home.LoginAsync(backend.BaseAddress, "bob", "--session-file", file)).ExitCode);
        Assert.True(File.Exists(file));
        Assert.False(File.Exists(_home.HostSessionFile(backend.BaseAddress)));
        Assert.Equal("bob", Json((await _home.RunAsync("whoami", "--session-file", file)).Stdout).GetProperty("username").GetString());

        var otherHost = await _home.RunAsync("get", "http://127.0.0.1:9/api/", "--session-file", file);
        Assert.Equal(1, otherHost.ExitCode);
        Assert.Contains("is not the backend of session", otherHost.Stderr);

        Assert.Equal(0, (await _home.RunAsync("logout", "--session-file", file)).ExitCode);
        Assert.False(File.Exists(file));
    }
}

/// <summary>
/// On a terminal (a pseudo-terminal from util-linux's <c>script</c>): the password prompt without echo, colours, the
/// --all progress line.
/// </summary>
[Collection(PosternGroup.Name)]
public sealed class TerminalTests(PosternBackend backend) : IDisposable
{
    private readonly CliHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task PromptsWithoutEchoAndShowsColoursAndProgressOnATerminal()
    {
        if (!CliHome.HasTerminal)
            return;
        // Typed a moment later, as a person would: what the terminal echoes of type-ahead (in cooked mode, before the prompt) is not ours.
        var login = await _home.RunInTerminalAsync($"login {backend.BaseAddress} alice", "alice-password");
        Assert.True(login.ExitCode == 0, login.ToString());
        var prompt = login.Stdout.IndexOf("Password for alice at ", StringComparison.Ordinal);
        Assert.True(prompt >= 0, login.ToString());
        Assert.DoesNotContain("alice-password", login.Stdout[prompt..]);
        Assert.True(File.Exists(_home.HostSessionFile(backend.BaseAddress)));

        var all = await _home.RunInTerminalAsync("get /api/users/ --all");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Contains("postern: page 3, 27 of 27 results", all.Stdout);
        Assert.Contains("\u001b[34;1m\"username\"", all.Stdout);
    }
}
