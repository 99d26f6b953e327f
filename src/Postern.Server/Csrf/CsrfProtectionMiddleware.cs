using Postern.Server.Http;
using Postern.Server.Sessions;

namespace Postern.Server.Csrf;

/// <summary>Which requests an endpoint's CSRF check applies to.</summary>
public enum CsrfEnforcement
{
    /// <summary>Every unsafe request (Django's CsrfViewMiddleware on a plain view).</summary>
    Always,

    /// <summary>Only unsafe requests from a signed-in session (DRF's SessionAuthentication.enforce_csrf).</summary>
    AuthenticatedSessionsOnly,
}

/// <summary>Endpoint metadata: this endpoint is CSRF-protected.</summary>
public sealed record CsrfProtectedMetadata(CsrfEnforcement Enforcement);

public static class CsrfEndpointConventions
{
    public static TBuilder RequireCsrf<TBuilder>(this TBuilder builder, CsrfEnforcement enforcement = CsrfEnforcement.Always)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new CsrfProtectedMetadata(enforcement));
        return builder;
    }
}

/// <summary>Runs the CSRF rules for protected endpoints, after routing and before the endpoint.</summary>
public sealed class CsrfProtectionMiddleware(RequestDelegate next, CsrfRules rules)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var protection = context.GetEndpoint()?.Metadata.GetMetadata<CsrfProtectedMetadata>();
        if (protection is not null && await AppliesAsync(context, protection.Enforcement))
        {
            var reason = await rules.CheckAsync(context);
            if (reason is not null)
            {
                await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, "CSRF Failed: " + reason);
                return;
            }
        }
        await next(context);
    }

    private static async ValueTask<bool> AppliesAsync(HttpContext context, CsrfEnforcement enforcement) =>
        enforcement == CsrfEnforcement.Always
        || (!Protocol.SafeMethods.Contains(context.Request.Method) && await context.GetRequestSession().GetUserAsync() is not null);
}
