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
/// most specific first (q-values are not weighed, as in DRF), against JSON then HTML.
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

    public static Outcome Negotiate(HttpRequest request, out Representation representation)
    {
        representation = Representation.Json;
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
        foreach (var media in types.OrderByDescending(Precedence))
        {
            if (Matches(media, "application", "json"))
                return Outcome.Chosen;
            if (Matches(media, "text", "html"))
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
