using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Postern.Testing;
using static Microsoft.Playwright.Assertions;

namespace Postern.Browser.Tests;

/// <summary>
/// The seed's topology without Docker: Debian's nginx running deploy/nginx/postern.conf.template with the frontend's built
/// files at <c>/</c> (deploy/frontend/dist) and two Postern instances sharing one database behind <c>/api/</c>,
/// <c>/api-auth/</c> and <c>/auth/</c>, as deploy/docker-compose.yml runs them. Shared by the tests of the class, which
/// each open browser contexts of their own.
/// </summary>
public sealed class FrontendSite : IAsyncLifetime
{
    public PosternTestServer First { get; private set; } = null!;
    public PosternTestServer Second { get; private set; } = null!;
    public NginxProxy Proxy { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var frontend = FrontendFiles.BuiltFolder; // before anything starts: says how to build it when it is not built
        // The settings compose gives every backend.
        var settings = new Dictionary<string, string?>
        {
            ["Postern:SecretKey"] = "frontend-test-key-" + Guid.NewGuid().ToString("N"),
            ["Postern:Proxy:TrustForwardedProto"] = "true",
            ["Postern:Proxy:TrustForwardedHost"] = "true",
            // The failed-login throttle, as in production (the test servers turn it off by default): a locked account's 429.
            ["Postern:Throttling:Enabled"] = "true",
        };
        First = await PosternTestServer.StartAsync(settings);
        Second = await PosternTestServer.StartAsync(settings,
            folder: Directory.CreateTempSubdirectory("postern-second-").FullName, databasePath: First.DatabasePath);
        await First.SeedLikeDjangoPeerAsync(extraUsers: 12);
        Proxy = await NginxProxy.StartAsync(new NginxProxyOptions
        {
            Upstreams = [First.BaseAddress, Second.BaseAddress],
            Tls = false,
            FrontendRoot = frontend,
        });
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await DebianChromium.LaunchAsync(Playwright);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (Proxy is not null)
            await Proxy.DisposeAsync();
        if (Second is not null)
            await Second.DisposeAsync();
        if (First is not null)
            await First.DisposeAsync();
    }

    public string Url(string path) => new Uri(Proxy.BaseAddress, path).ToString();

    /// <summary>A page in a browser context of its own (its own cookies: another browser, as far as the server knows).</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync();
        context.SetDefaultTimeout(60_000);
        return await context.NewPageAsync();
    }
}

/// <summary>The frontend in Chromium through nginx, against two Postern instances; screenshots go to the test artifacts.</summary>
public sealed class FrontendTests(FrontendSite site) : IClassFixture<FrontendSite>
{
    static FrontendTests() => SetDefaultExpectTimeout(60_000);

    private static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowsableApiTests.ArtifactsFolder, $"frontend-{name}.png"), FullPage = true });

    private async Task<IPage> LoggedInPageAsync(string username, string password)
    {
        var page = await site.NewPageAsync();
        await page.GotoAsync(site.Url("/"), new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        await LogInAsync(page, username, password);
        await Expect(page.Locator("#whoami")).ToHaveTextAsync(username);
        return page;
    }

    private static async Task LogInAsync(IPage page, string username, string password)
    {
        await Expect(page.Locator("h1")).ToHaveTextAsync("Log in");
        await page.Locator("#username").FillAsync(username);
        await page.Locator("#password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Log in" }).ClickAsync();
    }

    private static Task ClickLinkAsync(IPage page, string name) =>
        page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = name, Exact = true }).ClickAsync();

    /// <summary>The element that has the keyboard focus, as "TAG#id" (or "TAG:text" when it has no id).</summary>
    private static Task<string> FocusedAsync(IPage page) =>
        page.EvaluateAsync<string>("() => { const e = document.activeElement; return e.tagName + (e.id ? '#' + e.id : ':' + e.textContent.trim()); }");

    [Theory]
    [InlineData("/", "text/html", "index")]
    [InlineData("/sessions", "text/html", "index")]
    [InlineData("/browse/api/users/?page=2", "text/html", "index")]
    [InlineData("/app.js", "text/javascript", "app")]
    [InlineData("/style.css", "text/css", "style")]
    [InlineData("/api/", "application/json", "backend")]
    [InlineData("/auth/csrf", "application/json", "backend")]
    [InlineData("/api-auth/login/", "text/html", "backend")]
    [InlineData("/healthz", "application/json", "backend")]
    public async Task NginxServesTheAppAtSlashAndTheBackendsPathsFromTheInstances(string path, string type, string what)
    {
        using var client = site.Proxy.CreateRawClient();
        var response = await client.SendAsync(HttpMethod.Get, path);
        Assert.StartsWith(type, response.ContentType, StringComparison.Ordinal);
        var file = what switch
        {
            "index" => "index.html",
            "app" => "app.js",
            "style" => "style.css",
            _ => null,
        };
        // nginx logs each request after answering it, with the instance that answered ("-": nginx itself, from the files).
        var upstream = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(5); upstream.Length == 0 && DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            upstream = (await File.ReadAllLinesAsync(site.Proxy.AccessLog)).Where(line => line.Contains($"\"GET {path} ", StringComparison.Ordinal))
                .Select(line => Regex.Match(line, @"upstream=(\S+)").Groups[1].Value).LastOrDefault() ?? "";
        }
        if (file is null)
        {
            // The backend's answer (the API refuses an anonymous visitor: DRF's 403), not the app's files.
            Assert.Contains(upstream, new[] { site.First.BaseAddress.Authority, site.Second.BaseAddress.Authority });
            Assert.DoesNotContain("src=\"/app.js\"", response.Body, StringComparison.Ordinal);
            return;
        }
        Assert.Equal("-", upstream);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.Status);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(FrontendFiles.BuiltFolder, file)), response.Body);
        Assert.Equal("no-cache", response.Header("Cache-Control"));
        Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
        Assert.Contains("frame-ancestors 'none'", response.Header("Content-Security-Policy"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogInBrowseByLinksAndPagesEditAsStaffAndLogOut()
    {
        var page = await site.NewPageAsync();
        // The app keeps to nginx's Content-Security-Policy (its own script and style, this origin only): nothing refused.
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
                refused.Add(message.Text);
        };
        await page.GotoAsync(site.Url("/"), new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        // Nobody is signed in: the login form, its first field focused.
        await Expect(page.Locator("h1")).ToHaveTextAsync("Log in");
        Assert.Equal("INPUT#username", await FocusedAsync(page));
        // Every answer comes from the backend's origin: nginx serves the app and the API side by side.
        await LogInAsync(page, "alice", "alice-password");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Who am I");
        await Expect(page.Locator("#whoami")).ToHaveTextAsync("alice");
        await Expect(page.Locator("#status")).ToHaveTextAsync("Signed in as alice.");
        await Expect(page.Locator("#me")).ToContainTextAsync("alice@example.org");
        Assert.Equal("H1:Who am I", await FocusedAsync(page));
        await ScreenshotAsync(page, "who-am-i");

        // The API by its links: the root, a list with pages, an object, a link of the object.
        await ClickLinkAsync(page, "API");
        await Expect(page.Locator("#resources")).ToContainTextAsync("users");
        await ClickLinkAsync(page, "users");
        await Expect(page).ToHaveURLAsync(site.Url("/browse/api/users/"));
        await Expect(page.Locator("#page-info")).ToHaveTextAsync(new Regex(@"^Page 1 · \d+ in all$"));
        await ClickLinkAsync(page, "Next page");
        await Expect(page).ToHaveURLAsync(site.Url("/browse/api/users/?page=2"));
        await Expect(page.Locator("#page-info")).ToContainTextAsync("Page 2");
        await Expect(page.Locator("#items")).ToContainTextAsync("user008");
        await ScreenshotAsync(page, "users-page-2");
        await ClickLinkAsync(page, "Previous page");
        await Expect(page.Locator("#page-info")).ToContainTextAsync("Page 1");
        await ClickLinkAsync(page, "alice");
        await Expect(page.Locator("#detail")).ToContainTextAsync("alice@example.org");
        // The browser's back button goes back through the app's own history.
        await page.GoBackAsync();
        await Expect(page.Locator("#page-info")).ToContainTextAsync("Page 1");
        await page.GoForwardAsync();
        await Expect(page.Locator("#detail")).ToContainTextAsync("alice@example.org");
        // A user's form, from OPTIONS as well: the address as an e-mail input, the groups as links one per line.
        await Expect(page.Locator("#edit-email")).ToHaveValueAsync("alice@example.org");
        await Expect(page.Locator("#edit-email")).ToHaveAttributeAsync("type", "email");
        await Expect(page.Locator("#edit-groups")).ToHaveValueAsync(new Regex(@"^http://127\.0\.0\.1:\d+/api/groups/1/\nhttp://127\.0\.0\.1:\d+/api/groups/2/$"));
        await ClickLinkAsync(page, "groups/2/");
        await Expect(page.Locator("#detail [data-field=name]")).ToHaveTextAsync("readers");

        // Staff edits: the form is made from OPTIONS (name is writable); DRF's field error shows beside the field.
        var name = page.Locator("#edit-name");
        await Expect(page.Locator("label[for=edit-name]")).ToContainTextAsync("Name");
        await name.FillAsync("");
        await name.PressAsync("Enter"); // the keyboard submits the form
        await Expect(page.Locator("#edit-name-error")).ToHaveTextAsync("This field may not be blank.");
        await Expect(name).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.Locator("#alert")).Not.ToBeEmptyAsync();
        Assert.Equal("INPUT#edit-name", await FocusedAsync(page));
        await ScreenshotAsync(page, "field-error");
        await name.FillAsync("readers-renamed");
        await name.PressAsync("Enter");
        await Expect(page.Locator("#status")).ToHaveTextAsync("Saved: name.");
        await Expect(page.Locator("#detail [data-field=name]")).ToHaveTextAsync("readers-renamed");
        await Expect(page.Locator("#edit-name-error")).ToBeEmptyAsync();
        // Stored: the page loaded afresh (through either instance) shows it.
        await page.ReloadAsync(new PageReloadOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        await Expect(page.Locator("#detail [data-field=name]")).ToHaveTextAsync("readers-renamed");
        await ScreenshotAsync(page, "group-edited");

        // A new group from the list's form (POST), which leads to the group made.
        await ClickLinkAsync(page, "API");
        await ClickLinkAsync(page, "groups");
        await page.GetByText("New: group").ClickAsync();
        await page.Locator("#create-name").FillAsync("editors");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create", Exact = true }).ClickAsync();
        await Expect(page.Locator("#status")).ToHaveTextAsync("Created.");
        await Expect(page.Locator("#detail [data-field=name]")).ToHaveTextAsync("editors");
        await Expect(page).ToHaveURLAsync(new Regex(@"/browse/api/groups/\d+/$"));

        // Log out: the login form again, and the API's pages ask for a login.
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Log out", Exact = true }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("Log in");
        await Expect(page.Locator("#status")).ToHaveTextAsync("You are logged out.");
        await Expect(page.Locator("#account")).ToBeHiddenAsync();
        await page.GotoAsync(site.Url("/browse/api/users/"), new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        await Expect(page.Locator("h1")).ToHaveTextAsync("Log in");
        // Logging in there comes back to the page asked for.
        await LogInAsync(page, "bob", "bob-password");
        await Expect(page.Locator("#page-info")).ToContainTextAsync("Page 1");
        // bob is no staff: OPTIONS offers him no form.
        await ClickLinkAsync(page, "bob");
        await Expect(page.Locator("#detail")).ToContainTextAsync("bob@example.org");
        Assert.Equal(0, await page.Locator("#edit-form").CountAsync());
        Assert.Empty(refused);
    }

    [Fact]
    public async Task EndingAnotherSessionSignsThatBrowserOut()
    {
        await site.First.CreateUserAsync("carol", "carol-password");
        var mine = await LoggedInPageAsync("carol", "carol-password");
        var other = await LoggedInPageAsync("carol", "carol-password");
        await ClickLinkAsync(other, "API");
        await Expect(other.Locator("#resources")).ToContainTextAsync("users");

        // "Log out this one" on the other browser's row.
        await ClickLinkAsync(mine, "Sessions");
        await Expect(mine.Locator("#sessions tbody tr")).ToHaveCountAsync(2);
        await Expect(mine.Locator("#sessions tr[data-current=true]")).ToContainTextAsync("this browser");
        await ScreenshotAsync(mine, "sessions");
        await mine.Locator("#sessions tr:not([data-current=true])").GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Log out this one" })
            .ClickAsync();
        await Expect(mine.Locator("#status")).ToHaveTextAsync("That session was ended.");
        await Expect(mine.Locator("#sessions tbody tr")).ToHaveCountAsync(1);

        // The other browser's next step finds it signed out, and says so.
        await ClickLinkAsync(other, "users");
        await Expect(other.Locator("h1")).ToHaveTextAsync("Log in");
        await Expect(other.Locator("#alert")).ToContainTextAsync("You are signed out");
        await Expect(other.Locator("#account")).ToBeHiddenAsync();
        await ScreenshotAsync(other, "signed-out-elsewhere");

        // "Log out everywhere else": a third browser, ended from the first, which stays signed in.
        var third = await LoggedInPageAsync("carol", "carol-password");
        await mine.ReloadAsync(new PageReloadOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        await Expect(mine.Locator("#sessions tbody tr")).ToHaveCountAsync(2);
        await mine.Locator("#revoke-others").ClickAsync();
        await Expect(mine.Locator("#status")).ToHaveTextAsync("Ended 1 other session.");
        await Expect(mine.Locator("#sessions tbody tr")).ToHaveCountAsync(1);
        await Expect(mine.Locator("#revoke-others")).ToBeDisabledAsync();
        await ClickLinkAsync(third, "Sessions");
        await Expect(third.Locator("#alert")).ToContainTextAsync("You are signed out");
        await Expect(mine.Locator("#whoami")).ToHaveTextAsync("carol");

        // Its own row's "Log out" ends this session too.
        await mine.Locator("#sessions tr[data-current=true]").GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Log out" }).ClickAsync();
        await Expect(mine.Locator("h1")).ToHaveTextAsync("Log in");
        await Expect(mine.Locator("#status")).ToHaveTextAsync("You are logged out.");
    }

    [Fact]
    public async Task WrongPasswordsWrongCodesAndCsrfFailuresAreShownAsMessages()
    {
        // A wrong password: DRF's message, the password field emptied and focused for another try.
        var page = await site.NewPageAsync();
        await page.GotoAsync(site.Url("/"), new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        await LogInAsync(page, "alice", "not-her-password");
        await Expect(page.Locator("#alert")).ToHaveTextAsync("Invalid username or password.");
        await Expect(page.Locator("#password")).ToHaveValueAsync("");
        Assert.Equal("INPUT#password", await FocusedAsync(page));
        await ScreenshotAsync(page, "wrong-password");

        // An account locked after too many failures: DRF's 429, its wait said as the server says it.
        await site.First.CreateUserAsync("erin", "erin-password");
        for (var attempt = 0; attempt < 8 && !(await page.Locator("#alert").InnerTextAsync()).Contains("Too many", StringComparison.Ordinal); attempt++)
        {
            await page.Locator("#username").FillAsync("erin");
            await page.Locator("#password").FillAsync("not-erin-password");
            await page.Locator("#password").PressAsync("Enter");
            await Expect(page.Locator("#login-form")).Not.ToHaveAttributeAsync("aria-busy", "true");
            await Expect(page.Locator("#alert")).Not.ToBeEmptyAsync();
        }
        await Expect(page.Locator("#alert")).ToHaveTextAsync(new Regex(@"^Too many requests\. Request was throttled\. Expected available in \d+ seconds?\.$"));
        await ScreenshotAsync(page, "throttled");
        await page.Locator("#username").FillAsync("");

        // Two-factor: the server answers mfa_required, the app asks for the code; a wrong one is said beside the field.
        var dave = await TwoFactorUser.CreateAsync(site.First, "dave");
        await page.Locator("#username").FillAsync(dave.Username);
        await page.Locator("#password").FillAsync(dave.Password);
        await page.Locator("#password").PressAsync("Enter");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Two-factor authentication");
        Assert.Equal("INPUT#code", await FocusedAsync(page));
        await page.Locator("#code").FillAsync("000000");
        await page.Locator("#code").PressAsync("Enter");
        await Expect(page.Locator("#code-error")).Not.ToBeEmptyAsync();
        await Expect(page.Locator("#code")).ToHaveAttributeAsync("aria-invalid", "true");
        await ScreenshotAsync(page, "wrong-code");
        await page.Locator("#code").FillAsync(dave.CodeAt(DateTimeOffset.UtcNow));
        await page.Locator("#code").PressAsync("Enter");
        await Expect(page.Locator("#whoami")).ToHaveTextAsync("dave");

        // A staff edit whose csrftoken cookie was corrupted meanwhile: the server refuses it (403 CSRF Failed), the client
        // fetches a fresh token (GET /auth/csrf) and sends it once more, and the edit is saved with no error shown.
        var staff = await LoggedInPageAsync("alice", "alice-password");
        var context = staff.Context;
        await staff.GotoAsync(site.Url("/browse/api/groups/1/"), new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        await Expect(staff.Locator("#edit-name")).ToHaveValueAsync("staff");
        await context.AddCookiesAsync([new Cookie { Name = "csrftoken", Value = "corrupted", Url = site.Url("/") }]);
        await staff.Locator("#edit-name").FillAsync("staff-renamed");
        await staff.Locator("#edit-name").PressAsync("Enter");
        await Expect(staff.Locator("#status")).ToHaveTextAsync("Saved: name.");
        await Expect(staff.Locator("#alert")).ToBeEmptyAsync();
        await Expect(staff.Locator("#detail [data-field=name]")).ToHaveTextAsync("staff-renamed");
        var log = await File.ReadAllTextAsync(site.Proxy.AccessLog);
        Assert.Matches(new Regex(@"""PATCH /api/groups/1/ HTTP/1\.1"" 403 [^\n]*\n[^\n]*""GET /auth/csrf HTTP/1\.1"" 200 [^\n]*\n[^\n]*""PATCH /api/groups/1/ HTTP/1\.1"" 200"), log);

        // A stale csrftoken cookie on the app's own path (/browse) hides the site's one from the page's script, so every
        // token it sends is wrong, the refresh cannot help, and the server's refusal is shown as it came.
        await context.AddCookiesAsync([new Cookie { Name = "csrftoken", Value = "stale-token-from-an-old-app", Domain = "127.0.0.1", Path = "/browse" }]);
        await staff.Locator("#edit-name").FillAsync("staff");
        await staff.Locator("#edit-name").PressAsync("Enter");
        await Expect(staff.Locator("#alert")).ToContainTextAsync("CSRF Failed");
        await Expect(staff.Locator("#alert")).ToContainTextAsync("clear this site's cookies");
        await Expect(staff.Locator("#detail [data-field=name]")).ToHaveTextAsync("staff-renamed");
        await ScreenshotAsync(staff, "csrf-failed");
    }
}
