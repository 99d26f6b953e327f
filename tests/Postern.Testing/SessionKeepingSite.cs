using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Postern.Protocol;

namespace Postern.Testing;

/// <summary>
/// A site that speaks the seed's protocol (<c>/auth/csrf</c>, <c>/auth/login</c>, <c>/auth/user</c>) but whose
/// <c>POST /auth/logout</c> answers 200 "Successfully logged out." and keeps the session: a misrouted or broken logout,
/// the fault a client must not report as a logout. No real backend misbehaves this way on purpose, so the fault is
/// built here (a real Kestrel on loopback, not a mocked handler).
/// </summary>
public sealed class SessionKeepingSite : IAsyncDisposable
{
    public const string Username = "alice";
    public const string Password = "alice-password";

    private readonly WebApplication _app;

    private SessionKeepingSite(WebApplication app, Uri baseAddress, HashSet<string> liveSessions)
    {
        _app = app;
        BaseAddress = baseAddress;
        LiveSessions = liveSessions;
    }

    public Uri BaseAddress { get; }

    /// <summary>Session keys handed out and never ended: the server's view of who is signed in.</summary>
    public HashSet<string> LiveSessions { get; }

    public static async Task<SessionKeepingSite> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var liveSessions = new HashSet<string>();
        app.MapGet(EndpointPaths.Csrf, (HttpContext context) =>
        {
            var token = RandomNumberGenerator.GetHexString(32, lowercase: true);
            context.Response.Cookies.Append(CookieNames.Csrf, token, new CookieOptions { Path = "/", SameSite = SameSiteMode.Lax });
            return Results.Json(new { csrfToken = token });
        });
        app.MapPost(EndpointPaths.Login, async (HttpContext context) =>
        {
            var login = await context.Request.ReadFromJsonAsync<Dictionary<string, string>>();
            if (login is null || login.GetValueOrDefault("username") != Username || login.GetValueOrDefault("password") != Password)
                return Results.Json(new { detail = "Invalid username or password." }, statusCode: StatusCodes.Status401Unauthorized);
            var key = RandomNumberGenerator.GetHexString(32, lowercase: true);
            lock (liveSessions)
                liveSessions.Add(key);
            context.Response.Cookies.Append(CookieNames.Session, key, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Lax });
            return Results.Json(new { detail = "Successfully logged in.", username = Username });
        });
        app.MapGet(EndpointPaths.User, (HttpContext context) =>
        {
            var key = context.Request.Cookies[CookieNames.Session];
            bool live;
            lock (liveSessions)
                live = key is not null && liveSessions.Contains(key);
            return live
                ? Results.Json(new { username = Username, email = "alice@example.com", is_staff = false })
                : Results.Json(new { detail = "Authentication credentials were not provided." }, statusCode: StatusCodes.Status403Forbidden);
        });
        // The fault: a success answer, and the session (and its cookie) left as they were.
        app.MapPost(EndpointPaths.Logout, () => Results.Json(new { detail = "Successfully logged out." }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SessionKeepingSite(app, new Uri(address), liveSessions);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
