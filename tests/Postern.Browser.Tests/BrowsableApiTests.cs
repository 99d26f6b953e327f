using Microsoft.Playwright;
using Postern.Testing;

namespace Postern.Browser.Tests;

/// <summary>
/// The browsable API in a real browser: Debian's Chromium, headless, driven by Playwright. Logs in
/// through the form, follows links from the root to a user to its group, writes as staff, logs out,
/// and keeps screenshots under the test output's artifacts folder.
/// </summary>
public sealed class BrowsableApiTests : IAsyncLifetime
{
    private PosternTestServer _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public static string ArtifactsFolder { get; } = Directory.CreateDirectory(
        Environment.GetEnvironmentVariable("POSTERN_TEST_ARTIFACTS") ?? Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    public async Task InitializeAsync()
    {
        _server = await PosternTestServer.StartAsync();
        await _server.SeedLikeDjangoPeerAsync(extraUsers: 12);
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
    /// Waits until the page is at <paramref name="url"/> and its document is parsed. Not the full load
    /// event: on a busy two-core machine that wait, not the page, was what timed out.
    /// </summary>
    private static Task ArrivedAsync(IPage page, string url) =>
        page.WaitForURLAsync(url, new PageWaitForURLOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });

    private static Task ArrivedAsync(IPage page, System.Text.RegularExpressions.Regex url) =>
        page.WaitForURLAsync(url, new PageWaitForURLOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });

    [Fact]
    public async Task LogInClickThroughAndLogOut()
    {
        var page = await _browser.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(Url("/api/"));
        // Anonymous: the API refuses, the header offers to log in.
        Assert.Contains("Authentication credentials were not provided.", await page.ContentAsync(), StringComparison.Ordinal);

        await page.ClickAsync("#login");
        await page.FillAsync("#id_username", "alice");
        await page.FillAsync("#id_password", "alice-password");
        await page.ClickAsync("#submit-id-submit");
        await ArrivedAsync(page, Url("/api/"));
        Assert.Equal("alice", await page.InnerTextAsync("#whoami"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsFolder, "api-root.png"), FullPage = true });

        await page.ClickAsync($"a[href='{Url("/api/users/")}']");
        await ArrivedAsync(page, Url("/api/users/"));
        await page.ClickAsync($"a[href='{Url("/api/users/1/")}']");
        await ArrivedAsync(page, Url("/api/users/1/"));
        Assert.Contains("alice@example.org", await page.InnerTextAsync("pre.response"), StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsFolder, "user-detail.png"), FullPage = true });

        await page.ClickAsync($"pre.response a[href='{Url("/api/groups/1/")}']");
        await ArrivedAsync(page, Url("/api/groups/1/"));
        Assert.Contains("\"staff\"", await page.InnerTextAsync("pre.response"), StringComparison.Ordinal);

        await page.ClickAsync("#logout");
        await ArrivedAsync(page, Url("/api/"));
        Assert.Equal(1, await page.Locator("#login").CountAsync());
        Assert.Equal(0, await page.Locator("#whoami").CountAsync());
    }

    [Fact]
    public async Task StaffWriteThroughTheFormsWithTheCsrfToken()
    {
        var page = await _browser.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(Url("/api-auth/login/?next=/api/groups/"));
        await page.FillAsync("#id_username", "alice");
        await page.FillAsync("#id_password", "alice-password");
        await page.ClickAsync("#submit-id-submit");
        await ArrivedAsync(page, Url("/api/groups/"));

        // The HTML form is the first tab, as in DRF; this test writes raw JSON.
        await page.ClickAsync("#tab-raw-POST");
        await page.FillAsync("#content-POST", """{"name": "<img src=x onerror=alert(1)>"}""");
        // The POST's own answer first: if the page does not move on, the failure says what the server answered.
        var created = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#submit-POST"),
            response => response.Request.Method == "POST", new PageRunAndWaitForResponseOptions { Timeout = 60_000 });
        Assert.Equal(201, created.Status);
        await ArrivedAsync(page, new System.Text.RegularExpressions.Regex("/api/groups/[0-9]+/$"));
        var dialogs = 0;
        page.Dialog += (_, dialog) => { dialogs++; _ = dialog.DismissAsync(); };
        await page.ReloadAsync(new PageReloadOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });
        // The name is shown as text: no element was injected, no script ran.
        Assert.Contains("<img src=x onerror=alert(1)>", await page.InnerTextAsync("pre.response"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("pre.response img").CountAsync());
        Assert.Equal(0, dialogs);
        await page.ScreenshotAsync(
            new PageScreenshotOptions { Path = Path.Combine(ArtifactsFolder, "group-created.png"), FullPage = true });

        // DELETE asks for a confirmation first.
        await page.ClickAsync("#submit-DELETE");
        await page.ClickAsync("#confirm-DELETE");
        await ArrivedAsync(page, Url("/api/groups/"));
        Assert.DoesNotContain("onerror", await page.InnerTextAsync("pre.response"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadersGetNoWriteForms()
    {
        var page = await _browser.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(Url("/api-auth/login/?next=/api/groups/"));
        await page.FillAsync("#id_username", "bob");
        await page.FillAsync("#id_password", "bob-password");
        await page.ClickAsync("#submit-id-submit");
        await ArrivedAsync(page, Url("/api/groups/"));
        Assert.Equal(0, await page.Locator("form.write").CountAsync());
    }
}
