namespace Postern.Server.Http;

/// <summary>Django's <c>patch_vary_headers</c>: adds names to <c>Vary</c> once each, keeping what is there.</summary>
public static class VaryHeader
{
    public static void Add(HttpResponse response, string name)
    {
        var current = response.Headers.Vary.ToString();
        if (current.Length == 0)
        {
            response.Headers.Vary = name;
            return;
        }
        foreach (var range in current.AsSpan().Split(','))
        {
            if (current.AsSpan(range).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                return;
        }
        response.Headers.Vary = current + ", " + name;
    }
}
