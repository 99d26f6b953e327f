using Postern.Server.Http;
using Postern.Server.Sessions;

namespace Postern.Server.Csrf;

/// <summary>Which requests an endpoint's CSRF check applies to, and who runs it.</summary>
public enum CsrfEnforcement
{
    /// <summary>Every unsafe request, refused before the endpoint runs (Django's CsrfViewMiddleware on a plain view).</summary>
    Always,

    /// <summary>
    /// Only unsafe requests from a signed-in session, checked by the endpoint itself when it authenticates the request
    /// (DRF's SessionAuthentication.enforce_csrf: after content negotiation, so a 406 comes first, and rendered as the
    /// endpoint renders everything). Anonymous requests carry no authority for a forgery to borrow.
    /// </summary>
    AuthenticatedSessionsOnly,
}

/// <summary>Endpoint metadata: this endpoint is CSRF-protected, this way.</summary>
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

/// <summary>
/// The one place a request is judged for CSRF: which endpoints are protected (their metadata), whether the rules pass, and
/// the refusal's words (<c>CSRF Failed: &lt;Django's reason&gt;</c>), for the middleware and the API alike.
/// </summary>
public sealed class CsrfProtection(CsrfRules rules, Observability.PosternMetrics? metrics = null)
{
    public const string RefusalPrefix = "CSRF Failed: ";

    /// <summary>The refusal's detail for this request, or null to let it on.</summary>
    public async ValueTask<string?> RefusalAsync(HttpContext context)
    {
        var protection = context.GetEndpoint()?.Metadata.GetMetadata<CsrfProtectedMetadata>();
        if (protection is null)
            return null;
        var safe = Protocol.SafeMethods.Contains(context.Request.Method);
        // A request authenticated by an API token is not checked, as DRF's TokenAuthentication enforces no CSRF: the forgery
        // CSRF stops borrows the cookies a browser attaches by itself, and no browser attaches an Authorization header by
        // itself: another site's page would have to hold the token, and could send it only after a CORS preflight, which
        // Postern approves for the configured origins alone. A bad token throws here: 401.
        if (!safe && await context.GetRequestUser().IsByTokenAsync())
            return null;
        if (protection.Enforcement == CsrfEnforcement.AuthenticatedSessionsOnly
            && (safe || await context.GetRequestSession().GetUserAsync() is null))
            return null;
        if (await rules.CheckAsync(context) is not { } reason)
            return null;
        metrics?.CsrfFailure(CsrfFailureReasons.MetricName(reason));
        return RefusalPrefix + reason;
    }
}

/// <summary>
/// Refuses forged requests to endpoints marked <see cref="CsrfEnforcement.Always"/>, after routing and before the
/// endpoint.
/// </summary>
public sealed class CsrfProtectionMiddleware(RequestDelegate next, CsrfProtection protection)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<CsrfProtectedMetadata>();
        if (metadata?.Enforcement == CsrfEnforcement.Always && await protection.RefusalAsync(context) is { } refusal)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, refusal);
            return;
        }
        await next(context);
    }
}
