using Postern.Protocol;

namespace Postern.Client.Tests;

public sealed record UserResource(string Url, string Username, string Email, List<string> Groups);

public sealed record GroupResource(string Url, string Name);

/// <summary>The library against Postern and both Django peers: the same calls must work on all three.</summary>
[Collection(BackendsGroup.Name)]
public sealed class SessionTests(Backends backends)
{
    public static TheoryData<string> All => new() { "postern", "django52", "django32" };

    private PosternSession NewSession(string backend, PosternClientOptions? options = null) => new(backends[backend], options);

    [Theory]
    [MemberData(nameof(All))]
    public async Task LogInSeeWhoIAmAndLogOut(string backend)
    {
        using var session = NewSession(backend);
        await session.LoginAsync("alice", "alice-password");
        Assert.True(session.HasSession);
        Assert.Equal("alice", (await session.WhoAmIAsync()).Username);
        await session.LogoutAsync();
        Assert.False(session.HasSession);
        await Assert.ThrowsAsync<NotAuthenticatedException>(() => session.WhoAmIAsync());
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task AWrongPasswordIsInvalidCredentials(string backend)
    {
        using var session = NewSession(backend);
        await Assert.ThrowsAsync<InvalidCredentialsException>(() => session.LoginAsync("alice", "wrong"));
        Assert.False(session.HasSession);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task ListEveryUserAcrossPages(string backend)
    {
        using var session = NewSession(backend);
        await session.LoginAsync("bob", "bob-password");
        var users = new List<UserResource>();
        await foreach (var user in session.PaginateAsync<UserResource>("/api/users/"))
            users.Add(user);
        Assert.Equal(27, users.Count);
        Assert.Equal(users.Count, users.Select(u => u.Url).Distinct().Count());
        Assert.Contains(users, u => u.Username == "alice");
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task FollowLinksFromTheRootToAUserToItsGroups(string backend)
    {
        using var session = NewSession(backend);
        await session.LoginAsync("bob", "bob-password");
        var root = await session.GetJsonAsync("/api/");
        var firstPage = await session.GetJsonAsync(root.GetProperty("users").GetString()!);
        var alice = firstPage.GetProperty("results").EnumerateArray().First(u => u.GetProperty("username").GetString() == "alice");
        var detail = await session.FollowAsync<UserResource>(alice);
        var groups = new List<string>();
        foreach (var url in detail.Groups)
            groups.Add((await session.GetAsync<GroupResource>(url)).Name);
        Assert.Equal(["staff", "readers"], groups);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task StaffCreateAndDeleteAGroupWhileReadersAreRefused(string backend)
    {
        using var alice = NewSession(backend);
        await alice.LoginAsync("alice", "alice-password");
        var name = "client-" + Guid.NewGuid().ToString("N")[..8];
        var created = await alice.PostAsync<GroupResource>("/api/groups/", new { name });
        Assert.Equal(name, created.Name);

        using var bob = NewSession(backend);
        await bob.LoginAsync("bob", "bob-password");
        var denied = await Assert.ThrowsAsync<PermissionDeniedException>(() => bob.DeleteAsync(created.Url));
        Assert.Equal("You do not have permission to perform this action.", denied.Detail);

        var invalid = await Assert.ThrowsAsync<ValidationException>(() => alice.PostAsync<GroupResource>("/api/groups/", new { name }));
        Assert.Contains("name", invalid.FieldErrors.Keys);

        await alice.DeleteAsync(created.Url);
        await Assert.ThrowsAsync<NotFoundException>(() => alice.GetAsync<GroupResource>(created.Url));
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task ASavedSessionResumes(string backend)
    {
        var file = Path.Combine(Path.GetTempPath(), $"postern-session-{Guid.NewGuid():N}.json");
        try
        {
            using (var session = NewSession(backend))
            {
                await session.LoginAsync("bob", "bob-password");
                await session.SaveAsync(file);
            }
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            using var resumed = await PosternSession.LoadAsync(file);
            Assert.Equal("bob", (await resumed.WhoAmIAsync()).Username);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task AnExpiredSessionIsReportedAndCredentialsLogInAgain(string backend)
    {
        using var session = NewSession(backend);
        await session.LoginAsync("bob", "bob-password");
        // End the session behind the client's back: log out through a copy of its cookie.
        await EndSessionElsewhereAsync(backend, session);
        await Assert.ThrowsAsync<SessionExpiredException>(() => session.WhoAmIAsync());

        var asked = 0;
        using var healing = NewSession(backend, new PosternClientOptions
        {
            Credentials = (_, _) => { asked++; return ValueTask.FromResult<(string, string)?>(("bob", "bob-password")); },
        });
        await healing.LoginAsync("bob", "bob-password");
        await EndSessionElsewhereAsync(backend, healing);
        Assert.Equal("bob", (await healing.WhoAmIAsync()).Username);
        Assert.Equal(1, asked);
    }

    private async Task EndSessionElsewhereAsync(string backend, PosternSession session)
    {
        var key = session.Cookies.GetCookies(session.BaseAddress)[CookieNames.Session]!.Value;
        using var other = NewSession(backend);
        other.Cookies.Add(new System.Net.Cookie(CookieNames.Session, key, "/", session.BaseAddress.Host));
        using var response = await other.SendRawAsync(HttpMethod.Get, "/auth/logout", null);
        Assert.True(response.IsSuccessStatusCode);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task AReplacedTokenCookieIsRefreshedAndTheRequestRetriedOnce(string backend)
    {
        using var session = NewSession(backend);
        await session.LoginAsync("alice", "alice-password");
        var host = session.BaseAddress.Host;

        // Another tab, an extension or a proxy left a broken token cookie: the first POST is refused, the client refreshes and retries.
        session.Cookies.Add(new System.Net.Cookie(CookieNames.Csrf, "broken", "/", host));
        var name = "retry-" + Guid.NewGuid().ToString("N")[..8];
        var created = await session.PostAsync<GroupResource>("/api/groups/", new { name });
        Assert.Equal(name, created.Name);
        Assert.NotEqual("broken", session.CsrfToken);

        // The cookie gone altogether: "CSRF cookie not set.", then a refresh from the CSRF endpoint.
        foreach (System.Net.Cookie cookie in session.Cookies.GetCookies(session.BaseAddress))
        {
            if (cookie.Name == CookieNames.Csrf)
                cookie.Expired = true;
        }
        await session.DeleteAsync(created.Url);
        await Assert.ThrowsAsync<NotFoundException>(() => session.GetAsync<GroupResource>(created.Url));
    }

    [Fact]
    public async Task NoAnswerIsATransportFailureEvenDuringLogin()
    {
        using var session = new PosternSession(new Uri($"http://127.0.0.1:{Postern.Testing.DjangoPeer.FreePort()}/"));
        await Assert.ThrowsAsync<TransportException>(() => session.LoginAsync("alice", "alice-password"));
        await Assert.ThrowsAsync<TransportException>(() => session.GetJsonAsync("/api/"));
    }

    [Fact]
    public async Task PaginationReportsItsProgressAndARawFailureMapsToItsTypedException()
    {
        using var session = NewSession("postern");
        await session.LoginAsync("bob", "bob-password");
        var reports = new List<PageProgress>();
        var count = 0;
        await foreach (var _ in session.PaginateAsync<UserResource>("/api/users/", new SynchronousProgress(reports.Add)))
            count++;
        Assert.Equal(27, count);
        Assert.Equal([new PageProgress(1, 10, 27), new PageProgress(2, 20, 27), new PageProgress(3, 27, 27)], reports);

        using var response = await session.SendRawAsync(HttpMethod.Post, "/api/groups/",
            System.Net.Http.Json.JsonContent.Create(new { name = "x" }));
        var error = await PosternException.FromResponseAsync(response, hadSession: true);
        Assert.IsType<PermissionDeniedException>(error);
        Assert.Equal("You do not have permission to perform this action.", error.Detail);
    }

    private sealed class SynchronousProgress(Action<PageProgress> report) : IProgress<PageProgress>
    {
        public void Report(PageProgress value) => report(value);
    }

    [Fact]
    public async Task TwoSessionsInOneProcessNeverShareCookies()
    {
        using var alice = NewSession("postern");
        using var bob = NewSession("postern");
        await alice.LoginAsync("alice", "alice-password");
        await bob.LoginAsync("bob", "bob-password");
        Assert.Equal("alice", (await alice.WhoAmIAsync()).Username);
        Assert.Equal("bob", (await bob.WhoAmIAsync()).Username);
        Assert.NotEqual(
            alice.Cookies.GetCookies(alice.BaseAddress)[CookieNames.Session]!.Value,
            bob.Cookies.GetCookies(bob.BaseAddress)[CookieNames.Session]!.Value);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task AutoFallsBackToTheFormWhereThereIsNoJsonLogin(string backend)
    {
        // A stock Django site: no /auth/csrf, no JSON login; Auto finds the LoginView instead.
        using var session = NewSession(backend,
            new PosternClientOptions { CsrfPath = "/no-json-login/csrf", LoginPath = "/no-json-login/login" });
        await session.LoginAsync("bob", "bob-password");
        Assert.Equal(LoginMode.DrfApiAuth, session.Mode);
        Assert.Equal("bob", (await session.GetJsonAsync("/auth/user")).GetProperty("username").GetString());
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task StockDjangoFormLogin(string backend)
    {
        using var session = NewSession(backend,
            new PosternClientOptions { LoginMode = LoginMode.DjangoForm, LoginPageUrl = "/api-auth/login/" });
        await session.LoginAsync("alice", "alice-password");
        Assert.Equal("alice", (await session.GetJsonAsync("/auth/user")).GetProperty("username").GetString());
        await Assert.ThrowsAsync<InvalidCredentialsException>(async () =>
        {
            using var wrong = NewSession(backend, new PosternClientOptions { LoginMode = LoginMode.DrfApiAuth });
            await wrong.LoginAsync("alice", "nope");
        });
    }
}
