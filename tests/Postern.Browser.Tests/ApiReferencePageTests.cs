using System.Collections.Concurrent;
using Microsoft.Playwright;
using Postern.Testing;

namespace Postern.Browser.Tests;

/// <summary>
/// <c>/api/docs/</c> in Debian's Chromium: the reference page renders the document's endpoints under its own
/// Content-Security-Policy, and not one request leaves this server (no CDN, no fonts, no telemetry).
/// </summary>
public sealed class ApiReferencePageTests : IAsyncLifetime
{
    private PosternTestServer _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _server = await PosternTestServer.StartAsync();
        await _server.SeedLikeDjangoPeerAsync(extraUsers: 3);
        _playwright = await Playwright.CreateAsync();
        _browser = await DebianChromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task ThePageListsTheEndpointsAndNoRequestLeavesThisServer()
    {
        var origin = _server.BaseAddress.GetLeftPart(UriPartial.Authority);
        await using var context = await _browser.NewContextAsync();
        var requested = new ConcurrentQueue<string>();
        var elsewhere = new ConcurrentQueue<string>();
        context.Request += (_, request) => requested.Enqueue(request.Url);
        // Anything bound elsewhere is recorded and stopped here, so that the test neither depends on the network nor uses it.
        await context.RouteAsync(url => !IsThisServer(url, origin), async route =>
        {
            elsewhere.Enqueue(route.Request.Url);
            await route.AbortAsync();
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        var problems = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                problems.Enqueue(message.Text);
        };
        page.PageError += (_, error) => problems.Enqueue(error);

        var response = await page.GotoAsync(origin + "/api/docs/",
            new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });
        Assert.Equal(200, response!.Status);
        Assert.Equal("DENY", await response.HeaderValueAsync("x-frame-options"));
        // Each operation with its path, as the document has them (every tag open).
        foreach (var path in (string[])["/api/users/", "/api/users/{id}/", "/api/sessions/revoke-others/", "/auth/login", "/healthz"])
            await page.GetByText(path, new PageGetByTextOptions { Exact = true }).First.WaitForAsync();
        Assert.Equal("Postern API reference", await page.TitleAsync());
        var text = await page.InnerTextAsync("body");
        foreach (var summary in (string[])["User List", "Create User", "Partially Update User", "Revoke Other Sessions", "Log in"])
            Assert.Contains(summary, text, StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowsableApiTests.ArtifactsFolder, "api-docs.png") });

        Assert.Contains(requested, url => url.StartsWith(origin + "/api/schema/", StringComparison.Ordinal));
        Assert.Empty(elsewhere);
        Assert.All(requested, url => Assert.True(IsThisServer(url, origin), $"The page requested {url}."));
        Assert.DoesNotContain(problems, p => p.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>This server, or what a page makes without the network (data: and blob: URLs).</summary>
    private static bool IsThisServer(string url, string origin) =>
        url.StartsWith(origin + "/", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal)
        || url.StartsWith("blob:" + origin + "/", StringComparison.Ordinal);
}
