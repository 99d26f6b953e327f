namespace Postern.Server.Http;

/// <summary>
/// The parts of Python's <c>urllib.parse.urlsplit</c> that Django's origin and Referer checks use
/// (scheme and netloc), including its one failure: a netloc with an unbalanced '[' or ']'.
/// </summary>
public readonly record struct SplitUrl(string Scheme, string Netloc)
{
    public static bool TryParse(string url, out SplitUrl split)
    {
        split = default;
        // Python strips leading C0 controls and spaces, and removes tabs and newlines anywhere.
        url = url.TrimStart(LeadingJunk)
            .Replace("\t", "", StringComparison.Ordinal)
            .Replace("\r", "", StringComparison.Ordinal)
            .Replace("\n", "", StringComparison.Ordinal);
        var scheme = "";
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && char.IsAsciiLetter(url[0]) && url.AsSpan(0, colon).IndexOfAnyExcept(SchemeChars) < 0)
        {
            scheme = url[..colon].ToLowerInvariant();
            url = url[(colon + 1)..];
        }
        var netloc = "";
        if (url.StartsWith("//", StringComparison.Ordinal))
        {
            var rest = url.AsSpan(2);
            var end = rest.IndexOfAny('/', '?', '#');
            netloc = (end < 0 ? rest : rest[..end]).ToString();
            if (netloc.Contains('[', StringComparison.Ordinal) != netloc.Contains(']', StringComparison.Ordinal))
                return false;
        }
        split = new SplitUrl(scheme, netloc);
        return true;
    }

    private static readonly char[] LeadingJunk = Enumerable.Range(0, 33).Select(c => (char)c).ToArray();

    private static readonly System.Buffers.SearchValues<char> SchemeChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
}

/// <summary>Django's <c>is_same_domain</c>: a pattern starting with '.' matches the domain and its subdomains.</summary>
public static class DomainPattern
{
    public static bool Matches(string host, string pattern)
    {
        if (pattern.Length == 0)
            return false;
        pattern = pattern.ToLowerInvariant();
        return (pattern[0] == '.' && (host.EndsWith(pattern, StringComparison.Ordinal) || host == pattern[1..]))
            || pattern == host;
    }
}
