using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Postern.Testing;

namespace Postern.Browser.Tests;

/// <summary>
/// A frontend on another origin, in Chromium: a page served by a second loopback server calls Postern on its own port with
/// <c>fetch(..., { credentials: "include" })</c>, as a frontend's dev server does (<c>http://localhost:5173</c> against
/// <c>http://localhost:8000</c>). Same site on other ports (the defaults' SameSite=Lax cookies, the token read from
/// <c>document.cookie</c>, which ignores ports); another site (SameSite=None cookies, the token from the exposed
/// <c>X-CSRFToken</c> header); and an origin Postern does not list, whose page cannot read a thing.
/// </summary>
public sealed class CrossOriginFrontendTests : IAsyncLifetime
{
    private WebApplication _pages = null!;
    private int _pagesPort;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    /// <summary>
    /// What a JavaScript client does: the CSRF token from <c>document.cookie</c> when the backend's cookie is visible there
    /// (same host), else from the <c>X-CSRFToken</c> header of the last answer that had one (<c>GET /auth/csrf</c>, asked
    /// again after the login rotated the secret); every call with the browser's cookies.
    /// </summary>
    private const string Page = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>frontend</title></head><body>
        <script>
        let headerToken = null;
        let tokenSources = [];
        function cookieToken() {
          const match = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
          return match ? decodeURIComponent(match[1]) : null;
        }
        async function call(backend, method, path, body) {
          const headers = { "Accept": "application/json" };
          if (body !== undefined) headers["Content-Type"] = "application/json";
          if (!["GET", "HEAD", "OPTIONS"].includes(method)) {
            const fromCookie = cookieToken();
            tokenSources.push(fromCookie ? "cookie" : "header");
            headers["X-CSRFToken"] = fromCookie ?? headerToken;
          }
          const response = await fetch(backend + path, {
            method, headers, credentials: "include", body: body === undefined ? undefined : JSON.stringify(body),
          });
          headerToken = response.headers.get("X-CSRFToken") ?? headerToken;
          return { status: response.status, body: await response.json() };
        }
        async function scenario(backend) {
          const steps = {};
          steps.csrf = await call(backend, "GET", "/auth/csrf");
          steps.anonymous = await call(backend, "GET", "/auth/user");
          steps.login = await call(backend, "POST", "/auth/login", { username: "alice", password: "alice-password" });
          // The login rotated the CSRF secret; a page that cannot see the cookie asks for a token of the new one.
          if (cookieToken() === null)
            steps.rotated = await call(backend, "GET", "/auth/csrf");
          steps.user = await call(backend, "GET", "/auth/user");
          if (steps.user.status !== 200)
            return { steps, tokenSources, cookieVisible: cookieToken() !== null };
          steps.write = await call(backend, "PATCH", new URL(steps.user.body.url).pathname, { email: "alice@afar.example" });
          steps.after = await call(backend, "GET", "/auth/user");
          steps.logout = await call(backend, "POST", "/auth/logout");
          steps.loggedOut = await call(backend, "GET", "/auth/user");
          return { steps, tokenSources, cookieVisible: cookieToken() !== null };
        }
        async function attempt(backend, method, path, body) {
          try {
            return { status: (await call(backend, method, path, body)).status };
          } catch (error) {
            return { error: error.name };
          }
        }
        </script>
        </body></html>
        """;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        _pages = builder.Build();
        _pages.Urls.Add("http://127.0.0.1:0");
        _pages.MapGet("/", (HttpContext context) => Results.Content(Page, "text/html; charset=utf-8"));
        // The JavaScript client as a frontend bundles it: clients/js's build (scripts/test.sh builds it before these tests).
        var package = Path.Combine(RepositoryFiles.Root, "clients", "js", "dist");
        if (!File.Exists(Path.Combine(package, "index.js")))
            throw new InvalidOperationException($"{package}/index.js is missing: build the JavaScript client first (cd clients/js && npm ci && npm run build).");
        _pages.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(package),
            RequestPath = "/postern-client",
        });
        await _pages.StartAsync();
        _pagesPort = new Uri(_pages.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

        _playwright = await Playwright.CreateAsync();
        _browser = await DebianChromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _pages.StopAsync();
        await _pages.DisposeAsync();
    }

    private static async Task<PosternTestServer> StartBackendAsync(string frontendOrigin, bool crossSite = false)
    {
        var settings = new Dictionary<string, string?> { ["Postern:Cors:AllowedOrigins:0"] = frontendOrigin };
        if (crossSite)
        {
            settings["Postern:Sessions:CookieSameSite"] = "None";
            settings["Postern:Csrf:CookieSameSite"] = "None";
            settings["Postern:Sessions:CookiePartitioned"] = "true";
            settings["Postern:Csrf:CookiePartitioned"] = "true";
        }
        var server = await PosternTestServer.StartAsync(settings);
        await server.CreateUserAsync("alice", "alice-password", staff: true);
        return server;
    }

    /// <summary>The backend by name, not by the address it listens on: http://localhost:PORT, as a frontend developer has it.</summary>
    private static string Backend(PosternTestServer server) => $"http://localhost:{server.BaseAddress.Port}";

    private async Task<JsonElement> RunAsync(string pageOrigin, string script, params object[] arguments)
    {
        var page = await _browser.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(pageOrigin + "/", new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });
        var result = await page.EvaluateAsync<JsonElement>(script, arguments);
        await page.CloseAsync();
        return result;
    }

    private static void AssertTheScenario(JsonElement result, string expectedTokenSource)
    {
        var steps = result.GetProperty("steps");
        int Status(string step) => steps.GetProperty(step).GetProperty("status").GetInt32();
        JsonElement Body(string step) => steps.GetProperty(step).GetProperty("body");

        Assert.Equal(200, Status("csrf"));
        // DRF's error body is readable by the page: the answer carries the CORS headers.
        Assert.Equal(403, Status("anonymous"));
        Assert.Equal("Authentication credentials were not provided.", Body("anonymous").GetProperty("detail").GetString());
        Assert.True(Status("login") == 200, Body("login").ToString());
        Assert.Equal(expectedTokenSource == "header", steps.TryGetProperty("rotated", out _));
        Assert.Equal(200, Status("user"));
        Assert.Equal("alice", Body("user").GetProperty("username").GetString());
        Assert.True(Status("write") == 200, Body("write").ToString());
        Assert.Equal("alice@afar.example", Body("after").GetProperty("email").GetString());
        Assert.Equal(200, Status("logout"));
        Assert.Equal(403, Status("loggedOut"));
        // Every write (login, PATCH, logout) took its token where a JavaScript client finds it.
        Assert.Equal([expectedTokenSource, expectedTokenSource, expectedTokenSource],
            result.GetProperty("tokenSources").EnumerateArray().Select(source => source.GetString()));
    }

    /// <summary>
    /// http://localhost:A → http://localhost:B: cross-origin but same-site, so the default SameSite=Lax cookies go along, and
    /// the page sees the backend's csrftoken in <c>document.cookie</c> (cookies ignore ports).
    /// </summary>
    [Fact]
    public async Task AFrontendOnAnotherPortOfTheSameHostLogsInReadsAndWrites()
    {
        var frontend = $"http://localhost:{_pagesPort}";
        await using var server = await StartBackendAsync(frontend);

        var result = await RunAsync(frontend, "backend => scenario(backend)", Backend(server));

        AssertTheScenario(result, expectedTokenSource: "cookie");
        Assert.True(result.GetProperty("cookieVisible").GetBoolean());
    }

    /// <summary>
    /// http://127.0.0.1:A → http://localhost:B: another site. The cookies must be SameSite=None (and so Secure, which
    /// Chromium accepts from http://localhost), and, as this Chromium blocks third-party cookies by default (its verdict on
    /// a plain SameSite=None cookie here: "UserPreferences"), Partitioned: kept for the frontend's site. The page cannot see
    /// them, and reads the token from the exposed header.
    /// </summary>
    [Fact]
    public async Task AFrontendOnAnotherSiteLogsInReadsAndWritesWithSameSiteNoneCookies()
    {
        var frontend = $"http://127.0.0.1:{_pagesPort}";
        await using var server = await StartBackendAsync(frontend, crossSite: true);

        var result = await RunAsync(frontend, "backend => scenario(backend)", Backend(server));

        AssertTheScenario(result, expectedTokenSource: "header");
        Assert.False(result.GetProperty("cookieVisible").GetBoolean());
    }

    /// <summary>
    /// The package itself (<c>postern-client</c>, as built) in a page on another port: its browser mode uses the browser's
    /// cookies (<c>credentials: "include"</c> for another origin) and the token from <c>document.cookie</c>; login, who am
    /// I, a staff write, DRF's refusal as a typed error, logout.
    /// </summary>
    [Fact]
    public async Task ThePackageOnAPageOfAnotherPortLogsInReadsAndWrites()
    {
        var frontend = $"http://localhost:{_pagesPort}";
        await using var server = await StartBackendAsync(frontend);

        var result = await RunAsync(frontend, """
            async backend => {
              const { createSession, NotAuthenticatedError } = await import("/postern-client/index.js");
              const session = createSession({ baseUrl: backend });
              const anonymous = await session.whoami().then(() => "signed in", e => e instanceof NotAuthenticatedError ? e.detail : String(e));
              await session.login("alice", "alice-password");
              const me = await session.whoami();
              const written = await session.patch(new URL(me.url).pathname, { email: "alice@package.example" });
              const groups = [];
              for await (const group of session.paginate("/api/groups/")) groups.push(group.name);
              await session.logout();
              const after = await session.whoami().then(() => "signed in", e => e.constructor.name);
              return { anonymous, username: me.username, email: written.email, groups: groups.length, after };
            }
            """, Backend(server));

        Assert.Equal("Authentication credentials were not provided.", result.GetProperty("anonymous").GetString());
        Assert.Equal("alice", result.GetProperty("username").GetString());
        Assert.Equal("alice@package.example", result.GetProperty("email").GetString());
        Assert.Equal(0, result.GetProperty("groups").GetInt32());
        Assert.Equal("NotAuthenticatedError", result.GetProperty("after").GetString());
        var alice = await server.Users.FindUserByUsernameAsync("alice");
        Assert.Empty(await server.Sessions.ListLiveSessionsOfUserAsync(alice!.Id, DateTimeOffset.UtcNow));
    }

    /// <summary>A page on an origin Postern does not list: fetch rejects (TypeError) for reads, and a write never leaves the preflight.</summary>
    [Fact]
    public async Task APageOnAnUnlistedOriginCannotReadAnAnswer()
    {
        await using var server = await StartBackendAsync("http://127.0.0.1:1");

        var result = await RunAsync($"http://localhost:{_pagesPort}", """
            async backend => ({
              csrf: await attempt(backend, "GET", "/auth/csrf"),
              login: await attempt(backend, "POST", "/auth/login", { username: "alice", password: "alice-password" }),
            })
            """, Backend(server));

        Assert.Equal("TypeError", result.GetProperty("csrf").GetProperty("error").GetString());
        Assert.Equal("TypeError", result.GetProperty("login").GetProperty("error").GetString());
        // The login's preflight was refused, so the login itself was never sent.
        var alice = await server.Users.FindUserByUsernameAsync("alice");
        Assert.Empty(await server.Sessions.ListLiveSessionsOfUserAsync(alice!.Id, DateTimeOffset.UtcNow));
    }
}
