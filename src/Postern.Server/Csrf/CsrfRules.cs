using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Http;

namespace Postern.Server.Csrf;

/// <summary>
/// Django's CsrfViewMiddleware.process_view, one rule per attack, run in Django's order. Each
/// returns null to let the request on, or the reason to refuse it.
/// </summary>
public sealed class CsrfRules(TrustedOrigins trustedOrigins, IOptions<CsrfOptions> options)
{
    private readonly string? _cookieDomain = options.Value.CookieDomain;

    public async ValueTask<string?> CheckAsync(HttpContext context)
    {
        var request = context.Request;
        // Safe methods change nothing, so a forged one gains the attacker nothing.
        if (SafeMethods.Contains(request.Method))
            return null;
        var reason = RejectCrossSiteFetch(request) ?? (request.Headers.ContainsKey("Origin")
            ? RejectForeignOrigin(request)
            : request.IsHttps ? RequireSameOriginRefererOverHttps(request) : null);
        return reason ?? await RequireMatchingTokenAsync(context);
    }

    /// <summary>
    /// Defence in depth before the token (a leaked or fixated token, a browser bug): every current browser marks a
    /// request that another site's page made with <c>Sec-Fetch-Site: cross-site</c>, and no site but a trusted origin
    /// has any business sending one. Older browsers send no such header and are left to the other rules. Also asked of
    /// a state-changing GET such as the seed's <c>GET /auth/logout</c>, which an <c>&lt;img&gt;</c> on another site would
    /// otherwise trigger.
    /// </summary>
    public string? RejectCrossSiteFetch(HttpRequest request)
    {
        if (!request.Headers.TryGetValue("Sec-Fetch-Site", out var site) || site.ToString() != "cross-site")
            return null;
        return request.Headers.TryGetValue("Origin", out var origin) && trustedOrigins.Allows(origin.ToString())
            ? null
            : CsrfFailureReasons.CrossSiteFetch;
    }

    /// <summary>
    /// Stops cross-site form posts and fetches from browsers, which always name the page's origin:
    /// the origin must be this site's own (scheme and host:port) or a configured trusted one.
    /// </summary>
    private string? RejectForeignOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (IsOwnOrigin(origin, request) || trustedOrigins.Allows(origin))
            return null;
        return CsrfFailureReasons.BadOrigin(origin);
    }

    /// <summary>scheme://host[:port] of this very request, compared in place: every browser POST carries an Origin.</summary>
    private static bool IsOwnOrigin(ReadOnlySpan<char> origin, HttpRequest request)
    {
        var scheme = request.IsHttps ? "https://" : "http://";
        return origin.StartsWith(scheme, StringComparison.Ordinal) && origin[scheme.Length..].SequenceEqual(request.Host.Value);
    }

    /// <summary>
    /// Stops a man-in-the-middle on plain HTTP from planting a cookie and token that an HTTPS form then
    /// posts: over HTTPS, without Origin, the Referer must be an HTTPS page of this site.
    /// </summary>
    private string? RequireSameOriginRefererOverHttps(HttpRequest request)
    {
        if (!request.Headers.TryGetValue("Referer", out var values))
            return CsrfFailureReasons.NoReferer;
        var referer = values.ToString();
        if (!SplitUrl.TryParse(referer, out var split) || split.Scheme.Length == 0 || split.Netloc.Length == 0)
            return CsrfFailureReasons.MalformedReferer;
        if (split.Scheme != "https")
            return CsrfFailureReasons.InsecureReferer;
        if (trustedOrigins.AllowsRefererHost(split.Netloc))
            return null;
        var good = request.Host.Value ?? "";
        if (!string.IsNullOrEmpty(_cookieDomain))
        {
            var port = request.Host.Port ?? 443;
            good = port is 443 or 80 ? _cookieDomain : $"{_cookieDomain}:{port}";
        }
        return DomainPattern.Matches(split.Netloc, good) ? null : CsrfFailureReasons.BadReferer(referer);
    }

    /// <summary>
    /// The double-submit check: another site can make the browser send our cookie but cannot read it,
    /// so it cannot also put the matching token in a form field or header.
    /// </summary>
    private static async ValueTask<string?> RequireMatchingTokenAsync(HttpContext context)
    {
        var cookie = context.GetCsrfCookie();
        if (cookie.CookieError != CsrfTokenFormatError.None)
            return CsrfFailureReasons.BadCookie(cookie.CookieError);
        if (cookie.CookieSecret is null)
            return CsrfFailureReasons.NoCsrfCookie;

        var (token, source) = (await ReadFormTokenAsync(context), CsrfTokenSource.FormField);
        if (string.IsNullOrEmpty(token))
        {
            if (!context.Request.Headers.TryGetValue(HeaderNames.CsrfToken, out var header))
                return CsrfFailureReasons.TokenMissing;
            (token, source) = (header.ToString(), CsrfTokenSource.Header);
        }
        var format = CsrfToken.CheckFormat(token);
        if (format != CsrfTokenFormatError.None)
            return CsrfFailureReasons.BadToken(source, format);
        return CsrfToken.Matches(token, cookie.CookieSecret) ? null : CsrfFailureReasons.IncorrectToken(source);
    }

    /// <summary>Only a POST with a form body can carry the token as a field (Django reads request.POST).</summary>
    private static async ValueTask<string?> ReadFormTokenAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Method != "POST" || !request.HasFormContentType)
            return null;
        // An unreadable body carries no token; Django swallows UnreadablePostError the same way.
        var form = await RequestForm.TryReadAsync(request, context.RequestAborted);
        return form?[FormFields.CsrfToken].LastOrDefault();
    }
}
