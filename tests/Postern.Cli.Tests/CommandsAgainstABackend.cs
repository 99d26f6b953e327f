using System.Text.Json;
using Postern.Testing;

namespace Postern.Cli.Tests;

[Collection(PosternGroup.Name)]
public sealed class CommandsAgainstPostern(PosternBackend backend) : CommandsAgainstABackend(backend);

[Collection(ModernDjangoGroup.Name)]
public sealed class CommandsAgainstDjango52(ModernDjangoBackend backend) : CommandsAgainstABackend(backend);

[Collection(LegacyDjangoGroup.Name)]
public sealed class CommandsAgainstDjango32(LegacyDjangoBackend backend) : CommandsAgainstABackend(backend);

/// <summary>
/// The real <c>postern</c> process against Postern, Django 5.2 and Django 3.2 (one subclass each): the
/// same command lines must do the same on all three. Output is piped here, so it must be plain JSON.
/// </summary>
public abstract class CommandsAgainstABackend(Backend backend) : IDisposable
{
    public const string PermissionDenied = "You do not have permission to perform this action.";

    private readonly CliHome _home = new();

    public void Dispose()
    {
        _home.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task LoginSavesAPrivateSessionThatTheNextInvocationResumes()
    {
        var login = await _home.LoginAsync(backend.BaseAddress, "alice");
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Equal("", login.Stdout);

        var file = _home.HostSessionFile(backend.BaseAddress);
        Assert.True(File.Exists(file), file);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                File.GetUnixFileMode(_home.SessionsFolder));
        }
        Assert.NotNull(SavedSessionFile.Cookie(file, "sessionid"));

        var whoami = await _home.RunAsync("whoami");
        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        Assert.Equal("alice", Json(whoami.Stdout).GetProperty("username").GetString());
        Assert.Equal("", whoami.Stderr);
    }

    [Fact]
    public async Task GetAllFollowsNextToTheLastPageAndPrintsOneArray()
    {
        await SignedInAsync("bob");
        var all = await _home.RunAsync("get", "/api/users/", "--all");
        Assert.True(all.ExitCode == 0, all.ToString());
        var users = Json(all.Stdout).EnumerateArray().ToList();
        Assert.Equal(27, users.Count);
        Assert.Equal(27, users.Select(u => u.GetProperty("url").GetString()).Distinct().Count());
        Assert.Contains(users, u => u.GetProperty("username").GetString() == "alice");
        Assert.Equal("", all.Stderr); // no progress indicator when stderr is not a terminal

        var secondPage = await _home.RunAsync("get", "/api/users/", "page==2");
        Assert.True(secondPage.ExitCode == 0, secondPage.ToString());
        var page = Json(secondPage.Stdout);
        Assert.Equal(27, page.GetProperty("count").GetInt32());
        Assert.DoesNotContain(page.GetProperty("results").EnumerateArray(), u => u.GetProperty("username").GetString() == "alice");
    }

    [Fact]
    public async Task StaffCreateAndDeleteAGroup()
    {
        await SignedInAsync("alice");
        var name = "cli-" + Guid.NewGuid().ToString("N")[..8];
        var created = await _home.RunAsync("post", "/api/groups/", $"name={name}");
        Assert.True(created.ExitCode == 0, created.ToString());
        var group = Json(created.Stdout);
        Assert.Equal(name, group.GetProperty("name").GetString());
        var url = group.GetProperty("url").GetString()!;

        var duplicate = await _home.RunAsync("post", "/api/groups/", "--json", $$"""{"name": "{{name}}"}""");
        Assert.Equal(2, duplicate.ExitCode);
        Assert.StartsWith($"postern: POST {backend.BaseAddress}api/groups/: 400 Bad Request: name: ", duplicate.Stderr);

        var deleted = await _home.RunAsync("delete", url);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal("", deleted.Stdout);

        var gone = await _home.RunAsync("get", url);
        Assert.Equal(2, gone.ExitCode);
        Assert.StartsWith($"postern: GET {url}: 404 Not Found", gone.Stderr);
        Assert.Equal("", gone.Stdout);
        Assert.Single(gone.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task ANonStaffWriteIsRefusedWithDrfsDetailOnOneLine()
    {
        await SignedInAsync("bob");
        var refused = await _home.RunAsync("post", "/api/groups/", "name=not-for-bob");
        Assert.Equal(2, refused.ExitCode);
        // Every error line names the request that failed.
        Assert.Equal($"postern: POST {backend.BaseAddress}api/groups/: 403 Forbidden: {PermissionDenied}\n", refused.Stderr);
        Assert.Equal("", refused.Stdout);
    }

    [Fact]
    public async Task AWrongPasswordExitsWith2AndSavesNothing()
    {
        var wrong = await _home.RunAsync(["login", backend.BaseAddress.ToString(), "alice", "--password-stdin"],
            stdin: "not-her-password\n");
        Assert.Equal(2, wrong.ExitCode);
        Assert.StartsWith("postern: ", wrong.Stderr);
        Assert.Single(wrong.Stderr.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(_home.HostSessionFile(backend.BaseAddress)));
    }

    [Fact]
    public async Task PrintHbShowsTheStatusLineHeadersAndBody()
    {
        await SignedInAsync("bob");
        var result = await _home.RunAsync("get", "/api/groups/", "--print=hb");
        Assert.True(result.ExitCode == 0, result.ToString());
        var (head, body) = SplitHead(result.Stdout);
        Assert.Equal("HTTP/1.1 200 OK", head[0]);
        Assert.Contains(head, line => line.StartsWith("Content-Type: application/json", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(2, Json(body).GetProperty("count").GetInt32());

        var headOnly = await _home.RunAsync("whoami", "--print", "h");
        Assert.True(headOnly.ExitCode == 0, headOnly.ToString());
        Assert.StartsWith("HTTP/1.1 200 OK\n", headOnly.Stdout);
        Assert.DoesNotContain("\"username\"", headOnly.Stdout);
    }

    [Fact]
    public async Task LogoutEndsTheSessionAndRemovesItsFile()
    {
        await LoginAsync("bob");
        var file = _home.HostSessionFile(backend.BaseAddress);
        var sessionKey = SavedSessionFile.Cookie(file, "sessionid")!;

        var logout = await _home.RunAsync("logout");
        Assert.True(logout.ExitCode == 0, logout.ToString());
        Assert.False(File.Exists(file));

        // Ended on the server too, not just forgotten here.
        using var raw = RawHttp.CreateClient(backend.BaseAddress);
        var user = await raw.SendAsync(HttpMethod.Get, "/auth/user", [("Cookie", $"sessionid={sessionKey}")]);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, user.Status);

        var after = await _home.RunAsync("whoami");
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("not logged in", after.Stderr);
    }

    [Fact]
    public async Task ASessionEndedElsewhereIsReportedAsExpired()
    {
        await LoginAsync("bob");
        var sessionKey = SavedSessionFile.Cookie(_home.HostSessionFile(backend.BaseAddress), "sessionid")!;
        using var raw = RawHttp.CreateClient(backend.BaseAddress);
        await raw.SendAsync(HttpMethod.Get, "/auth/logout", [("Cookie", $"sessionid={sessionKey}")]);

        var whoami = await _home.RunAsync("whoami");
        Assert.Equal(2, whoami.ExitCode);
        Assert.Equal("postern: session expired: run postern login again\n", whoami.Stderr);
    }

    [Fact]
    public async Task ARefreshedCsrfTokenIsSavedForTheNextInvocation()
    {
        await SignedInAsync("alice");
        var file = _home.HostSessionFile(backend.BaseAddress);
        SavedSessionFile.SetCookie(file, "csrftoken", "broken");

        // The backend refuses the token, the client fetches a fresh one and retries; the file keeps the fresh one.
        var name = "csrf-" + Guid.NewGuid().ToString("N")[..8];
        var created = await _home.RunAsync("post", "/api/groups/", $"name={name}");
        Assert.True(created.ExitCode == 0, created.ToString());
        var saved = SavedSessionFile.Cookie(file, "csrftoken");
        Assert.NotNull(saved);
        Assert.NotEqual("broken", saved);

        var deleted = await _home.RunAsync("delete", Json(created.Stdout).GetProperty("url").GetString()!);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(saved, SavedSessionFile.Cookie(file, "csrftoken"));
    }

    /// <summary>A login of this test's own, for tests that end the session.</summary>
    private async Task LoginAsync(string username)
    {
        var login = await _home.LoginAsync(backend.BaseAddress, username);
        Assert.True(login.ExitCode == 0, login.ToString());
    }

    /// <summary>A copy of the run's shared session, for tests that only need someone signed in.</summary>
    private async Task SignedInAsync(string username) =>
        _home.Adopt(await backend.SessionFileAsync(username), backend.BaseAddress);

    internal static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>The lines before the first blank line, and the rest.</summary>
    internal static (string[] Head, string Body) SplitHead(string output)
    {
        var end = output.IndexOf("\n\n", StringComparison.Ordinal);
        Assert.True(end > 0, output);
        return (output[..end].Split('\n'), output[(end + 2)..]);
    }
}
