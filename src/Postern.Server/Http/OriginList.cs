using System.Text.RegularExpressions;

namespace Postern.Server.Http;

/// <summary>
/// A configured list of origins, matched as Django's CSRF check matches CSRF_TRUSTED_ORIGINS: exact origins
/// (<c>https://app.example.com</c>), and wildcard domains by scheme (<c>https://*.example.com</c> → https: the domain
/// <c>example.com</c> and its subdomains); also every entry's netloc, for the Referer check. The CSRF trusted origins and
/// the CORS allowed origins are both such lists.
/// </summary>
public sealed partial class OriginList
{
    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);
    private readonly List<(string Scheme, string Domain)> _wildcards = [];
    private readonly List<string> _netlocs = [];

    /// <summary>Entries that <see cref="SplitUrl"/> cannot parse are left out, as Django's urlsplit would fail on them.</summary>
    public OriginList(IEnumerable<string> origins)
    {
        foreach (var origin in origins)
        {
            if (!SplitUrl.TryParse(origin, out var split))
                continue;
            _netlocs.Add(split.Netloc.TrimStart('*'));
            if (origin.Contains('*', StringComparison.Ordinal))
                _wildcards.Add((split.Scheme, split.Netloc.TrimStart('*')));
            else
                _exact.Add(origin);
        }
    }

    public bool IsEmpty => _exact.Count == 0 && _wildcards.Count == 0;

    /// <summary>Whether an Origin header is listed (exactly, or by a wildcard of the same scheme).</summary>
    public bool Allows(string origin)
    {
        if (_exact.Contains(origin))
            return true;
        if (_wildcards.Count == 0 || !SplitUrl.TryParse(origin, out var split))
            return false;
        foreach (var (scheme, domain) in _wildcards)
        {
            if (scheme == split.Scheme && DomainPattern.Matches(split.Netloc, domain))
                return true;
        }
        return false;
    }

    /// <summary>Whether a Referer's host is one of the listed origins' (any scheme, as Django's Referer check does).</summary>
    public bool AllowsRefererHost(string netloc)
    {
        foreach (var pattern in _netlocs)
        {
            if (DomainPattern.Matches(netloc, pattern))
                return true;
        }
        return false;
    }

    /// <summary>
    /// What is wrong with an entry that is to be compared with browsers' Origin headers (django-cors-headers' check of
    /// CORS_ALLOWED_ORIGINS, stricter): null for <c>scheme://host</c> or <c>scheme://host:port</c> with nothing after it,
    /// the host optionally <c>*.</c> and a domain; otherwise the problem, in words.
    /// </summary>
    public static string? ProblemWithOrigin(string entry)
    {
        if (entry == "null")
            return "'null' is the Origin of sandboxed pages and local files of any site, and cannot be allowed";
        if (!entry.Contains("://", StringComparison.Ordinal))
            return $"'{entry}' has no scheme: write it as a browser sends it, http://localhost:5173 or https://app.example.com";
        if (!OriginPattern().IsMatch(entry))
            return $"'{entry}' is not an origin: scheme://host or scheme://host:port with nothing after it (no path, not even "
                + "a trailing /), and * only as https://*.example.com";
        return null;
    }

    /// <summary>
    /// An origin as browsers write it: lowercase scheme and host, and no port where it is the scheme's own
    /// (<c>https://app.example.com:443</c> is sent as <c>https://app.example.com</c>).
    /// </summary>
    public static string Normalize(string entry)
    {
        var origin = entry.Trim().ToLowerInvariant();
        if (origin.StartsWith("https://", StringComparison.Ordinal) && origin.EndsWith(":443", StringComparison.Ordinal))
            return origin[..^4];
        if (origin.StartsWith("http://", StringComparison.Ordinal) && origin.EndsWith(":80", StringComparison.Ordinal))
            return origin[..^3];
        return origin;
    }

    [GeneratedRegex(@"^[a-z][a-z0-9+.-]*://(\*\.)?([a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?\z", RegexOptions.IgnoreCase)]
    private static partial Regex OriginPattern();
}
