using Postern.Protocol;

namespace Postern.Server.Csrf;

/// <summary>Django's reason strings (django/middleware/csrf.py), word for word: clients and logs match on them.</summary>
public static class CsrfFailureReasons
{
    public const string NoCsrfCookie = "CSRF cookie not set.";
    public const string TokenMissing = "CSRF token missing.";
    public const string NoReferer = "Referer checking failed - no Referer.";
    public const string MalformedReferer = "Referer checking failed - Referer is malformed.";
    public const string InsecureReferer = "Referer checking failed - Referer is insecure while host is secure.";

    /// <summary>Postern's own (Django does not read Fetch Metadata): a browser said the request comes from another site.</summary>
    public const string CrossSiteFetch = "Cross-site request refused (Sec-Fetch-Site: cross-site).";

    public static string BadOrigin(string origin) => $"Origin checking failed - {origin} does not match any trusted origins.";
    public static string BadReferer(string referer) => $"Referer checking failed - {referer} does not match any trusted origins.";

    public static string BadCookie(CsrfTokenFormatError error) => $"CSRF cookie {Describe(error)}.";

    public static string BadToken(CsrfTokenSource source, CsrfTokenFormatError error) =>
        $"CSRF token from {Name(source)} {Describe(error)}.";

    public static string IncorrectToken(CsrfTokenSource source) => $"CSRF token from {Name(source)} incorrect.";

    /// <summary>
    /// A short fixed name for <paramref name="reason"/>, the <c>reason</c> tag of the <c>postern.csrf.failures</c> metric (the
    /// reason's own words may carry an origin or a referer a client chose).
    /// </summary>
    public static string MetricName(string reason) => reason switch
    {
        NoCsrfCookie => "no_cookie",
        TokenMissing => "token_missing",
        NoReferer => "no_referer",
        MalformedReferer => "malformed_referer",
        InsecureReferer => "insecure_referer",
        CrossSiteFetch => "cross_site",
        _ when reason.StartsWith("Origin checking failed", StringComparison.Ordinal) => "bad_origin",
        _ when reason.StartsWith("Referer checking failed", StringComparison.Ordinal) => "bad_referer",
        _ when reason.StartsWith("CSRF cookie", StringComparison.Ordinal) => "bad_cookie",
        _ when reason.EndsWith(" incorrect.", StringComparison.Ordinal) => "incorrect_token",
        _ when reason.StartsWith("CSRF token from", StringComparison.Ordinal) => "bad_token",
        _ => "other",
    };

    private static string Name(CsrfTokenSource source) =>
        source == CsrfTokenSource.FormField ? "POST" : $"the '{HeaderNames.CsrfTokenAsDjangoNamesIt}' HTTP header";

    private static string Describe(CsrfTokenFormatError error) =>
        error == CsrfTokenFormatError.IncorrectLength ? "has incorrect length" : "has invalid characters";
}

/// <summary>Where the request's CSRF token came from; named in failure reasons.</summary>
public enum CsrfTokenSource
{
    FormField,
    Header,
}
