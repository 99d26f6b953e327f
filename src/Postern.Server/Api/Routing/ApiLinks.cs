using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Postern.Server.Api;

/// <summary>
/// Absolute links as DRF builds them: scheme and host of the request (the proxy's, when forwarded
/// headers are trusted), and the <c>format</c> query parameter carried along so a client that asked
/// for JSON keeps getting JSON as it follows links.
/// </summary>
public sealed class ApiLinks(HttpRequest request, RouteTable routes)
{
    private readonly string _origin = $"{request.Scheme}://{request.Host}{request.PathBase}";
    private readonly string? _suffix = request.HttpContext.GetRouteValue("format")?.ToString();
    private readonly string _format = request.Query.TryGetValue("format", out var f) ? "?format=" + Uri.EscapeDataString(f.ToString()) : "";

    public RouteTable Routes => routes;

    public string Root => To(routes.Root, null);

    public string List(ApiResource resource) => To(routes.ListOf(resource), null);

    public string Instance(ApiResource resource, string id) => To(routes.InstanceOf(resource), id);

    public string Instance(ApiResource resource, long id) =>
        Instance(resource, id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    // With a format suffix in the request, links carry it too, as DRF reverses with format=.
    public string To(ApiRoute route, string? id) =>
        _origin + (_suffix is null ? route.PathFor(id) : route.SuffixedPathFor(id, _suffix)) + _format;

    /// <summary>
    /// Writes <see cref="Instance(ApiResource, long)"/> as a JSON string without building it as a string first: a page of
    /// users writes dozens of links, and each would otherwise be a few short-lived strings (bytes per request, bench/README.md).
    /// </summary>
    public void WriteInstance(System.Text.Json.Utf8JsonWriter writer, ApiResource resource, long id)
    {
        Span<char> digits = stackalloc char[20];
        id.TryFormat(digits, out var length, default, System.Globalization.CultureInfo.InvariantCulture);
        WriteInstance(writer, resource, digits[..length]);
    }

    /// <inheritdoc cref="WriteInstance(System.Text.Json.Utf8JsonWriter, ApiResource, long)"/>
    public void WriteInstance(System.Text.Json.Utf8JsonWriter writer, ApiResource resource, ReadOnlySpan<char> id)
    {
        var route = routes.InstanceOf(resource);
        var template = route.Template;
        var at = template.IndexOf(IdPlaceholder, StringComparison.Ordinal);
        Span<char> link = stackalloc char[MaxStackLink];
        if (_suffix is null && at >= 0
            && link.TryWrite(System.Globalization.CultureInfo.InvariantCulture,
                $"{_origin}{template.AsSpan(0, at)}{id}{template.AsSpan(at + IdPlaceholder.Length)}{_format}", out var written))
            writer.WriteStringValue(link[..written]);
        else
            writer.WriteStringValue(To(route, id.ToString()));
    }

    private const string IdPlaceholder = "{id}";

    /// <summary>Longer links (a long host name or format parameter) are built as strings.</summary>
    private const int MaxStackLink = 256;

    /// <summary>DRF's replace_query_param on the request's own absolute URL: other parameters kept, sorted by name.</summary>
    public static string WithQueryParameter(HttpRequest request, string name, string? value)
    {
        var query = QueryHelpers.ParseQuery(request.QueryString.Value)
            .Where(p => p.Key != name)
            .SelectMany(p => p.Value.Select(v => (p.Key, Value: v ?? "")))
            .ToList();
        if (value is not null)
            query.Add((name, value));
        var url = new StringBuilder($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}");
        var first = true;
        foreach (var (key, v) in query.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            url.Append(first ? '?' : '&').Append(PlusEncode(key)).Append('=').Append(PlusEncode(v));
            first = false;
        }
        return url.ToString();
    }

    // Python's quote_plus, as urlencode writes query strings.
    private static string PlusEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);
}
