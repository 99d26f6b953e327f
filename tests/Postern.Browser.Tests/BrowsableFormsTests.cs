using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Postern.Testing;

namespace Postern.Browser.Tests;

/// <summary>
/// The browsable API's forms and controls in Chromium, against the reference backend's 27 users: log in and come back; create
/// a group and a user through the HTML forms; edit with the pre-filled PUT form; delete behind the confirmation; field errors
/// beside their inputs; no write forms for readers; OPTIONS, the format switcher and the page links; a label for every input;
/// the anti-framing and CSP headers, and a console without CSP violations or script errors. Screenshots go to the artifacts.
/// </summary>
public sealed partial class BrowsableFormsTests : IAsyncLifetime
{
    private PosternTestServer _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private readonly List<string> _consoleProblems = [];

    public async Task InitializeAsync()
    {
        _server = await PosternTestServer.StartAsync();
        await _server.SeedLikeDjangoPeerAsync(extraUsers: 25);
        _playwright = await Playwright.CreateAsync();
        _browser = await DebianChromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }

    private string Url(string path) => new Uri(_server.BaseAddress, path).ToString();

    /// <summary>
    /// A page whose console is watched: errors and uncaught exceptions are kept, and a CSP violation is reported even if the
    /// browser would only count it (the listener is installed by the driver, outside the page's policy).
    /// </summary>
    private async Task<IPage> NewPageAsync()
    {
        var page = await _browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        page.SetDefaultTimeout(60_000);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                _consoleProblems.Add(message.Text);
        };
        page.PageError += (_, error) => _consoleProblems.Add("uncaught: " + error);
        await page.AddInitScriptAsync("""
            document.addEventListener('securitypolicyviolation', function (event) {
              console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI);
            });
            """);
        return page;
    }

    /// <summary>
    /// Nothing went wrong in the pages' consoles. The only errors allowed are the browser's notes on answers that were meant
    /// to fail (a 400 or 403 a test provoked).
    /// </summary>
    private void AssertCleanConsole() =>
        Assert.DoesNotContain(_consoleProblems, p => !p.StartsWith("Failed to load resource: the server responded with a status of 4",
            StringComparison.Ordinal));

    private static Task ArrivedAsync(IPage page, string url) =>
        page.WaitForURLAsync(url, new PageWaitForURLOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });

    private static Task ArrivedAsync(IPage page, Regex url) =>
        page.WaitForURLAsync(url, new PageWaitForURLOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });

    private static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowsableApiTests.ArtifactsFolder, name), FullPage = true });

    /// <summary>Waits until <paramref name="selector"/> shows <paramref name="text"/> (after a fetch, or a navigation).</summary>
    private static Task ShowsAsync(IPage page, string selector, string text) =>
        page.Locator(selector).Filter(new LocatorFilterOptions { HasText = text }).WaitForAsync();

    private async Task<IPage> LoggedInAsync(string username, string next)
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/api-auth/login/?next=" + Uri.EscapeDataString(next)));
        await page.FillAsync("#id_username", username);
        await page.FillAsync("#id_password", username + "-password");
        await page.ClickAsync("#submit-id-submit");
        await ArrivedAsync(page, Url(next));
        return page;
    }

    /// <summary>The inputs (not hidden ones) that no label names: none, on every page.</summary>
    private static Task<string[]> UnlabelledInputsAsync(IPage page) =>
        page.EvaluateAsync<string[]>("""
            () => Array.from(document.querySelectorAll('input, select, textarea'))
              .filter(input => input.type !== 'hidden')
              .filter(input => Array.from(input.labels).every(label => label.textContent.trim() === ''))
              .map(input => input.id || input.name || input.outerHTML)
            """);

    [Fact]
    public async Task LoggingInComesBackToWhereYouWere()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Url("/api/users/?page=2"));
        Assert.Equal("HTTP 403 Forbidden", (await page.InnerTextAsync("#response")).Split('\n')[0]);
        Assert.Equal(0, await page.Locator("form.write").CountAsync());

        await page.ClickAsync("#login");
        await ArrivedAsync(page, new Regex("/api-auth/login/"));
        Assert.Equal("/api/users/?page=2", await page.GetAttributeAsync("#back-link", "href"));
        await ScreenshotAsync(page, "login-page.png");
        await page.FillAsync("#id_username", "alice");
        await page.FillAsync("#id_password", "wrong-password");
        await page.ClickAsync("#submit-id-submit");
        await ShowsAsync(page, "#login-error", "Please enter a correct username and password.");
        Assert.Equal("alice", await page.InputValueAsync("#id_username"));
        await ScreenshotAsync(page, "login-page-error.png");

        await page.FillAsync("#id_password", "alice-password");
        await page.ClickAsync("#submit-id-submit");
        await ArrivedAsync(page, Url("/api/users/?page=2"));
        Assert.Equal("alice", await page.InnerTextAsync("#whoami"));
        AssertCleanConsole();
    }

    [Fact]
    public async Task StaffCreateAGroupAndAUserThroughTheHtmlForms()
    {
        var page = await LoggedInAsync("alice", "/api/groups/");
        await page.FillAsync("#POST-name", "editors");
        await page.ClickAsync("#submit-form-POST");
        await ArrivedAsync(page, new Regex("/api/groups/[0-9]+/$"));
        var editors = page.Url;
        Assert.Contains("\"name\": \"editors\"", await page.InnerTextAsync("#response"), StringComparison.Ordinal);
        Assert.Equal("editors", await page.InputValueAsync("#PUT-name"));

        await page.GotoAsync(Url("/api/users/"));
        await page.FillAsync("#POST-username", "carol");
        await page.FillAsync("#POST-email", "carol@example.org");
        // The groups are offered by name, their URLs as values.
        Assert.Equal(["staff", "readers", "editors"], await page.Locator("#POST-groups option").AllInnerTextsAsync());
        await page.SelectOptionAsync("#POST-groups", [new SelectOptionValue { Label = "staff" }, new() { Label = "editors" }]);
        await ScreenshotAsync(page, "user-create-form.png");
        await page.ClickAsync("#submit-form-POST");
        await ArrivedAsync(page, new Regex("/api/users/[0-9]+/$"));

        var shown = await page.InnerTextAsync("#response");
        Assert.StartsWith("HTTP 200 OK", shown, StringComparison.Ordinal);
        Assert.Contains("\"username\": \"carol\"", shown, StringComparison.Ordinal);
        Assert.Contains(Url("/api/groups/1/"), shown, StringComparison.Ordinal);
        Assert.Contains(editors, shown, StringComparison.Ordinal);
        Assert.Equal(["staff", "editors"], await SelectedLabelsAsync(page, "#PUT-groups"));
        await ScreenshotAsync(page, "user-created.png");
        AssertCleanConsole();
    }

    private static Task<string[]> SelectedLabelsAsync(IPage page, string select) =>
        page.Locator(select).EvaluateAsync<string[]>("select => Array.from(select.selectedOptions).map(option => option.textContent)");

    [Fact]
    public async Task ThePutFormStartsFromTheObjectAndDeleteAsksFirst()
    {
        var page = await LoggedInAsync("alice", "/api/users/2/");
        // Bob as the GET shows him, in the form.
        Assert.Equal("bob", await page.InputValueAsync("#PUT-username"));
        Assert.Equal("bob@example.org", await page.InputValueAsync("#PUT-email"));
        Assert.Equal(["readers"], await SelectedLabelsAsync(page, "#PUT-groups"));
        await ScreenshotAsync(page, "user-put-form.png");

        await page.FillAsync("#PUT-email", "robert@example.org");
        await page.SelectOptionAsync("#PUT-groups", [new SelectOptionValue { Label = "staff" }]);
        await page.ClickAsync("#submit-form-PUT");
        await ShowsAsync(page, "#response", "robert@example.org");
        Assert.Equal("robert@example.org", await page.InputValueAsync("#PUT-email"));
        Assert.Equal(["staff"], await SelectedLabelsAsync(page, "#PUT-groups"));
        Assert.Contains(Url("/api/groups/1/"), await page.InnerTextAsync("#response"), StringComparison.Ordinal);
        Assert.DoesNotContain(Url("/api/groups/2/"), await page.InnerTextAsync("#response"), StringComparison.Ordinal);

        // DELETE opens the confirmation; Cancel leaves bob alone.
        await page.ClickAsync("#submit-DELETE");
        Assert.True(await page.IsVisibleAsync("#delete-dialog"));
        Assert.Equal("Are you sure you want to delete this User Instance?", await page.InnerTextAsync("#delete-question"));
        await ScreenshotAsync(page, "delete-confirmation.png");
        await page.ClickAsync("#cancel-DELETE");
        Assert.False(await page.IsVisibleAsync("#delete-dialog"));
        await page.ReloadAsync(new PageReloadOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        Assert.StartsWith("HTTP 200 OK", await page.InnerTextAsync("#response"), StringComparison.Ordinal);

        await page.ClickAsync("#submit-DELETE");
        await page.ClickAsync("#confirm-DELETE");
        await ArrivedAsync(page, Url("/api/users/"));
        Assert.DoesNotContain(Url("/api/users/2/"), await page.InnerTextAsync("#response"), StringComparison.Ordinal);
        Assert.Contains("\"count\": 26", await page.InnerTextAsync("#response"), StringComparison.Ordinal);
        await page.GotoAsync(Url("/api/users/2/"));
        Assert.StartsWith("HTTP 404 Not Found", await page.InnerTextAsync("#response"), StringComparison.Ordinal);
        AssertCleanConsole();
    }

    [Fact]
    public async Task AFailedCreateShowsTheErrorsBesideTheInputsAndKeepsWhatWasTyped()
    {
        var page = await LoggedInAsync("alice", "/api/users/");
        await page.FillAsync("#POST-username", "   ");
        await page.FillAsync("#POST-email", "not-an-email");
        await page.SelectOptionAsync("#POST-groups", [new SelectOptionValue { Label = "readers" }]);
        await page.ClickAsync("#submit-form-POST");
        await ShowsAsync(page, "#POST-username-errors", "This field may not be blank.");
        Assert.Equal("Enter a valid email address.", await page.InnerTextAsync("#POST-email-errors"));
        Assert.Equal("true", await page.GetAttributeAsync("#POST-username", "aria-invalid"));
        Assert.False(await page.IsVisibleAsync("#POST-groups-errors"));
        // What was typed and chosen is still there, to correct.
        Assert.Equal("not-an-email", await page.InputValueAsync("#POST-email"));
        Assert.Equal(["readers"], await SelectedLabelsAsync(page, "#POST-groups"));
        // The answer is shown as the page shows its own.
        var shown = await page.InnerTextAsync("#response");
        Assert.StartsWith("HTTP 400 Bad Request", shown, StringComparison.Ordinal);
        Assert.Contains("This field may not be blank.", shown, StringComparison.Ordinal);
        Assert.StartsWith("POST /api/users/", await page.InnerTextAsync("#request-line"), StringComparison.Ordinal);
        await ScreenshotAsync(page, "user-create-errors.png");

        // Correcting one field clears its message on the next try; the other keeps its own.
        await page.FillAsync("#POST-username", "dora");
        await page.ClickAsync("#submit-form-POST");
        await page.Locator("#POST-username-errors").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Hidden });
        Assert.Equal("Enter a valid email address.", await page.InnerTextAsync("#POST-email-errors"));

        await page.GotoAsync(Url("/api/groups/"));
        await page.FillAsync("#POST-name", "staff");
        await page.ClickAsync("#submit-form-POST");
        await ShowsAsync(page, "#POST-name-errors", "group with this name already exists.");
        Assert.Equal("staff", await page.InputValueAsync("#POST-name"));
        await ScreenshotAsync(page, "group-create-duplicate.png");

        // A raw-data body that is not JSON: the parse error goes above the form.
        await page.ClickAsync("#tab-raw-POST");
        await page.FillAsync("#content-POST", "{not json");
        await page.ClickAsync("#submit-POST");
        await ShowsAsync(page, "#raw-POST .form-errors", "JSON parse error");
        AssertCleanConsole();
    }

    [Fact]
    public async Task ReadersAndVisitorsSeeNoWriteForms()
    {
        var page = await LoggedInAsync("bob", "/api/users/");
        foreach (var path in (string[])["/api/users/", "/api/users/1/", "/api/groups/", "/api/groups/1/"])
        {
            await page.GotoAsync(Url(path));
            Assert.Equal(0, await page.Locator("form.write").CountAsync());
            Assert.Equal(0, await page.Locator("[role=tab]").CountAsync());
            Assert.Equal(0, await page.Locator("#submit-DELETE").CountAsync());
            Assert.Equal(1, await page.Locator("#options-button").CountAsync());
        }
        await ScreenshotAsync(page, "reader-group-detail.png");

        // What a reader may write, he gets a form for: ending his other sessions (an action without fields: one button).
        await page.GotoAsync(Url("/api/sessions/revoke-others/"));
        Assert.Equal(0, await page.Locator("#get-button").CountAsync());
        await page.ClickAsync("#submit-POST");
        await ShowsAsync(page, "#response", "Ended 0 other sessions.");
        Assert.StartsWith("HTTP 200 OK", await page.InnerTextAsync("#response"), StringComparison.Ordinal);

        await page.ClickAsync("#logout");
        await ArrivedAsync(page, Url("/api/"));
        await page.GotoAsync(Url("/api/groups/"));
        Assert.Equal("Log in", await page.InnerTextAsync("#login"));
        Assert.Equal(0, await page.Locator("form.write").CountAsync());
        AssertCleanConsole();
    }

    [Fact]
    public async Task OptionsAndTheFormatSwitcherWork()
    {
        var page = await LoggedInAsync("alice", "/api/users/");
        await page.ClickAsync("#options-button");
        await ShowsAsync(page, "#request-line", "OPTIONS /api/users/");
        var options = await page.InnerTextAsync("#response");
        Assert.StartsWith("HTTP 200 OK", options, StringComparison.Ordinal);
        Assert.Contains("Allow: GET, POST, HEAD, OPTIONS", options, StringComparison.Ordinal);
        Assert.Contains("\"name\": \"User List\"", options, StringComparison.Ordinal);
        Assert.Contains("\"POST\": {", options, StringComparison.Ordinal);
        await ScreenshotAsync(page, "options-answer.png");

        await page.ClickAsync("#format-json");
        await ArrivedAsync(page, Url("/api/users/?format=json"));
        // Chromium shows JSON as text in a pre (with its own controls around it in newer versions).
        using (var json = JsonDocument.Parse(await page.Locator("pre").First.TextContentAsync() ?? ""))
            Assert.Equal(27, json.RootElement.GetProperty("count").GetInt32());

        await page.GoBackAsync(new PageGoBackOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        await page.ClickAsync("#format-api");
        await ArrivedAsync(page, Url("/api/users/?format=api"));
        Assert.StartsWith("HTTP 200 OK", await page.InnerTextAsync("#response"), StringComparison.Ordinal);
        Assert.Equal(1, await page.Locator("#form-POST").CountAsync());
        AssertCleanConsole();
    }

    [Fact]
    public async Task ThePageLinksWalkTheList()
    {
        var page = await LoggedInAsync("alice", "/api/users/");
        Assert.Equal(["«", "1", "2", "3", "»"], await page.Locator("nav.pagination li").AllInnerTextsAsync());
        await page.ClickAsync("nav.pagination a[rel=next]");
        await ArrivedAsync(page, Url("/api/users/?page=2"));
        Assert.Equal("2", await page.InnerTextAsync("nav.pagination [aria-current=page]"));
        await ScreenshotAsync(page, "users-page-2.png");
        await page.ClickAsync("nav.pagination a:text-is('3')");
        await ArrivedAsync(page, Url("/api/users/?page=3"));
        Assert.Contains("\"username\": \"user024\"", await page.InnerTextAsync("#response"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("nav.pagination a[rel=next]").CountAsync());
        await page.ClickAsync("nav.pagination a[rel=prev]");
        await ArrivedAsync(page, Url("/api/users/?page=2"));
        await page.ClickAsync("nav.pagination a:text-is('1')");
        await ArrivedAsync(page, Url("/api/users/"));
        AssertCleanConsole();
    }

    [Fact]
    public async Task EveryPageLabelsEveryInputRefusesFramingAndKeepsToItsPolicy()
    {
        var page = await LoggedInAsync("alice", "/api/");
        var sessions = JsonDocument.Parse(await (await page.APIRequest.GetAsync(Url("/api/sessions/?format=json"))).TextAsync());
        var session = sessions.RootElement.GetProperty("results")[0].GetProperty("url").GetString()!;
        string[] pages = ["/api/", "/api/users/", "/api/users/1/", "/api/groups/", "/api/groups/1/", "/api/sessions/",
            new Uri(session).AbsolutePath, "/api/sessions/revoke-others/", "/api-auth/login/?next=/api/users/"];
        foreach (var path in pages)
        {
            var response = await page.GotoAsync(Url(path));
            Assert.NotNull(response);
            var headers = await response.AllHeadersAsync();
            Assert.Equal("DENY", headers["x-frame-options"]);
            Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", headers["content-security-policy"], StringComparison.Ordinal);
            Assert.Empty(await UnlabelledInputsAsync(page));
            // The raw-data tabs too: their inputs are labelled when shown.
            foreach (var tab in await page.Locator("[role=tab]").AllAsync())
            {
                await tab.ClickAsync();
                Assert.Empty(await UnlabelledInputsAsync(page));
            }
            await ScreenshotAsync(page, "page" + Regex.Replace(path, "[^a-z0-9]+", "-").TrimEnd('-') + ".png");
        }
        // A page inside a frame of another site's page is refused: nothing of it loads there.
        await page.GotoAsync("about:blank");
        await page.SetContentAsync($"<iframe id=\"framed\" src=\"{Url("/api/users/")}\"></iframe>");
        var framed = page.Frames.FirstOrDefault(f => f.Url.Contains("/api/users/", StringComparison.Ordinal));
        Assert.True(framed is null || await framed.Locator("#response").CountAsync() == 0);
        // The browser says so in the console, which is the point here.
        _consoleProblems.RemoveAll(p => p.Contains("frame-ancestors", StringComparison.Ordinal)
            || p.Contains("X-Frame-Options", StringComparison.Ordinal));
        AssertCleanConsole();
    }
}
