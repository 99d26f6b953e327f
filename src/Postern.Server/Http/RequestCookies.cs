namespace Postern.Server.Http;

/// <summary>
/// Reads one cookie from the request's Cookie headers the way Django's <c>parse_cookie</c> does:
/// split on ';', then on the first '=', trim both sides, unquote, and let the last duplicate win
/// (ASP.NET's parser keeps the first and drops values it finds invalid, which Django accepts).
/// </summary>
public static class RequestCookies
{
    public static string? Find(HttpRequest request, string name)
    {
        string? found = null;
        foreach (var header in request.Headers.Cookie)
        {
            if (header is null)
                continue;
            foreach (var range in header.AsSpan().Split(';'))
            {
                var chunk = header.AsSpan(range);
                var equals = chunk.IndexOf('=');
                var key = equals < 0 ? ReadOnlySpan<char>.Empty : chunk[..equals].Trim();
                var value = equals < 0 ? chunk.Trim() : chunk[(equals + 1)..].Trim();
                if (key.SequenceEqual(name))
                    found = Unquote(value);
            }
        }
        return found;
    }

    private static string Unquote(ReadOnlySpan<char> value)
    {
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"')
            return value.ToString();
        var inner = value[1..^1];
        if (!inner.Contains('\\'))
            return inner.ToString();
        var text = new System.Text.StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            if (inner[i] == '\\' && i + 1 < inner.Length)
                i++;
            text.Append(inner[i]);
        }
        return text.ToString();
    }
}
