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
