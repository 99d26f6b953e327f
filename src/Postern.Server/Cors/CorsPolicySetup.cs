using Microsoft.AspNetCore.Cors.Infrastructure;
using Postern.Server.Http;

namespace Postern.Server.Cors;

/// <summary>
/// The one CORS policy, answered by ASP.NET Core's own CORS middleware: the configured origins (<see cref="OriginList"/>,
/// matched as the CSRF trusted origins are), credentials allowed, and django-cors-headers' default methods and request
/// headers.
/// </summary>
public static class CorsPolicySetup
{
    /// <summary>django-cors-headers' default_methods.</summary>
    public static readonly IReadOnlyList<string> AllowedMethods = ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"];

    /// <summary>
    /// django-cors-headers' default_headers: the CSRF token's header and JSON's Content-Type for the session's writes,
    /// <c>Authorization</c> for API tokens (which a page must hold itself: no browser adds one), and what libraries send.
    /// </summary>
    public static readonly IReadOnlyList<string> AllowedHeaders =
        ["accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with"];

    /// <summary>
    /// The response headers a page may read beyond the always-readable ones: the CSRF token (<c>GET /auth/csrf</c> and the
    /// login's rotated one), which a page on another site cannot read from <c>document.cookie</c>; and a throttle's
    /// <c>Retry-After</c>; and the request's id (<c>X-Request-Id</c>), for a frontend's bug report to name the log lines.
    /// django-cors-headers exposes none unless CORS_EXPOSE_HEADERS lists them.
    /// </summary>
    public static readonly IReadOnlyList<string> ExposedHeaders =
        [Protocol.HeaderNames.CsrfToken, "Retry-After", Observability.RequestLoggingMiddleware.HeaderName];

    public static void Configure(CorsPolicyBuilder policy, CorsOptions options)
    {
        var origins = new OriginList(options.Origins());
        policy.SetIsOriginAllowed(origins.Allows)
            .AllowCredentials()
            .WithMethods([.. AllowedMethods])
            .WithHeaders([.. AllowedHeaders])
            .WithExposedHeaders([.. ExposedHeaders]);
        if (options.PreflightMaxAgeSeconds > 0)
            policy.SetPreflightMaxAge(TimeSpan.FromSeconds(options.PreflightMaxAgeSeconds));
    }
}

/// <summary>
/// <c>Vary: Origin</c> on every answer while CORS is on, as django-cors-headers adds it: whether an answer carries CORS
/// headers depends on the request's Origin, so no cache may hand one origin's answer (or the answer to a request without
/// Origin) to another. ASP.NET's middleware adds it only to the answers it allows.
/// </summary>
public sealed class VaryByOriginMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        // Registered before the CORS middleware's own callback, so run after it (callbacks run last-registered first): the
        // Vary line it appended is folded into one with the rest.
        context.Response.OnStarting(static state =>
        {
            var response = (HttpResponse)state;
            if (response.Headers.Vary.Count > 1)
            {
                var names = response.Headers.Vary.ToString();
                response.Headers.Remove(Microsoft.Net.Http.Headers.HeaderNames.Vary);
                foreach (var name in names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    VaryHeader.Add(response, name);
            }
            VaryHeader.Add(response, "Origin");
            return Task.CompletedTask;
        }, context.Response);
        return next(context);
    }
}
