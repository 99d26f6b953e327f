using Microsoft.Playwright;

namespace Postern.Browser.Tests;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>, or <c>POSTERN_CHROMIUM</c>), driven by Playwright: browser downloads are
/// impossible here, so Playwright's own builds are never used.
/// </summary>
public static class DebianChromium
{
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = Environment.GetEnvironmentVariable("POSTERN_CHROMIUM") ?? "/usr/bin/chromium",
        Headless = true,
        // This machine has no network but loopback: keep Chromium from reaching for Google's services.
        Args =
        [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
        ],
    });
}
