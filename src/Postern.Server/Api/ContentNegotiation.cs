using Microsoft.Net.Http.Headers;

namespace Postern.Server.Api;

/// <summary>The representations the API renders, in DRF's renderer order (JSON first).</summary>
public enum Representation
{
    Json,
    BrowsableHtml,
}

/// <summary>
/// DRF's DefaultContentNegotiation: <c>?format=</c> wins; otherwise the Accept header's media types,
/// most specific first (q-values are not weighed, as in DRF), JSON before HTML among equally specific types.
/// </summary>
public static class ContentNegotiation
{
    public enum Outcome
    {
        Chosen,

        /// <summary>An unknown <c>?format=</c>: DRF answers 404.</summary>
        UnknownFormat,

        /// <summary>Nothing acceptable: 406.</summary>
        NotAcceptable,
    }

    public static Outcome Negotiate(HttpRequest request, out Representation representation) => Negotiate(request, out representation, out _);

    /// <param name="indent">DRF's <c>Accept: application/json; indent=N</c>: pretty JSON, N spaces (0 to 8).</param>
    public static Outcome Negotiate(HttpRequest request, out Representation representation, out int? indent)
    {
        representation = Representation.Json;
        indent = null;
        // A URL suffix (/api/users.json) or ?format= names the representation outright.
        var format = request.HttpContext.GetRouteValue("format")?.ToString()
            ?? (request.Query.TryGetValue("format", out var query) ? query.ToString() : null);
        if (format is not null)
        {
            switch (format)
            {
                case "json":
                    return Outcome.Chosen;
                case "api":
                    representation = Representation.BrowsableHtml;
                    return Outcome.Chosen;
                default:
                    return Outcome.UnknownFormat;
            }
        }
        var accept = request.Headers.Accept.ToString();
        if (accept.Length == 0 || !MediaTypeHeaderValue.TryParseList([accept], out var types))
            return Outcome.Chosen;
        // As DRF: the most specific group first; within a group the renderers' order decides (JSON, then HTML).
        foreach (var group in types.GroupBy(Precedence).OrderByDescending(g => g.Key))
        {
            if (group.FirstOrDefault(media => Matches(media, "application", "json")) is { } json)
            {
                if (json.Parameters.FirstOrDefault(p => p.Name.Equals("indent", StringComparison.OrdinalIgnoreCase))?.Value.Value is { } asked
                    && int.TryParse(asked, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var spaces))
                    indent = Math.Clamp(spaces, 0, 8);
                return Outcome.Chosen;
            }
            if (group.Any(media => Matches(media, "text", "html")))
            {
                representation = Representation.BrowsableHtml;
                return Outcome.Chosen;
            }
        }
        return Outcome.NotAcceptable;
    }

    private static int Precedence(MediaTypeHeaderValue media) =>
        media.Parameters.Any(p => !p.Name.Equals("q", StringComparison.OrdinalIgnoreCase)) ? 3
        : media.SubType != "*" ? 2
        : media.Type != "*" ? 1
        : 0;

    private static bool Matches(MediaTypeHeaderValue media, string type, string subtype) =>
        (media.Type == "*" || media.Type.Equals(type, StringComparison.OrdinalIgnoreCase))
        && (media.SubType == "*" || media.SubType.Equals(subtype, StringComparison.OrdinalIgnoreCase));
}
