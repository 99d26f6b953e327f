using System.Globalization;
using System.Text;

namespace Postern.Server.Http;

/// <summary>
/// Writes <c>Set-Cookie</c> text as Django does (Python's Morsel): attributes in the order Domain,
/// expires, HttpOnly, Max-Age, Path, SameSite, Secure, with <c>expires</c> always beside
/// <c>Max-Age</c>; a deletion is the value <c>""</c> with the epoch and <c>Max-Age=0</c>. Then <c>Partitioned</c> (CHIPS),
/// which Django does not write, when asked for.
/// </summary>
public readonly record struct CookieAttributes(string? Domain, string Path, bool HttpOnly, bool Secure, string SameSite,
    bool Partitioned = false);

public static class SetCookieHeader
{
    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    public static string Set(string name, string value, int maxAgeSeconds, CookieAttributes attributes, DateTimeOffset now) =>
        Format(name, value, now.AddSeconds(maxAgeSeconds), maxAgeSeconds, attributes);

    /// <summary>A session cookie in the browser's sense: neither expires nor Max-Age, so it goes when the browser closes.</summary>
    public static string SetUntilBrowserCloses(string name, string value, CookieAttributes attributes) =>
        Format(name, value, expires: null, maxAge: null, attributes);

    /// <summary>
    /// Django's <c>delete_cookie</c>: Path, Domain and SameSite as set, but neither HttpOnly nor the Secure
    /// setting. Secure is added only where a browser would otherwise ignore the deletion: a
    /// <c>__Secure-</c>/<c>__Host-</c> name, or SameSite=None or Partitioned (which <see cref="Format"/> handles). A
    /// partitioned cookie is deleted with Partitioned, or the deletion would name another cookie.
    /// </summary>
    public static string Delete(string name, CookieAttributes attributes) =>
        Format(name, "\"\"", Epoch, 0, attributes with { HttpOnly = false, Secure = NeedsSecureToBeHonoured(name) });

    private static bool NeedsSecureToBeHonoured(string name) =>
        name.StartsWith("__Secure-", StringComparison.Ordinal) || name.StartsWith("__Host-", StringComparison.Ordinal);

    private static string Format(string name, string value, DateTimeOffset? expires, int? maxAge, CookieAttributes a)
    {
        var text = new StringBuilder(160);
        text.Append(name).Append('=').Append(value);
        if (!string.IsNullOrEmpty(a.Domain))
            text.Append("; Domain=").Append(a.Domain);
        if (expires is { } at)
            text.Append("; expires=").Append(at.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture));
        if (a.HttpOnly)
            text.Append("; HttpOnly");
        if (maxAge is { } seconds)
            text.Append("; Max-Age=").Append(seconds.ToString(CultureInfo.InvariantCulture));
        text.Append("; Path=").Append(a.Path);
        if (!string.IsNullOrEmpty(a.SameSite))
            text.Append("; SameSite=").Append(a.SameSite);
        // Browsers drop a SameSite=None or a Partitioned cookie that is not Secure.
        if (a.Secure || a.Partitioned || string.Equals(a.SameSite, "None", StringComparison.OrdinalIgnoreCase))
            text.Append("; Secure");
        if (a.Partitioned)
            text.Append("; Partitioned");
        return text.ToString();
    }
}
