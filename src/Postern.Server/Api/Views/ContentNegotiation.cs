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

    public static Outcome Negotiate(HttpRequest request, out Representation representation) =>
        Negotiate(request, out representation, out _);

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
        if (accept.Length == 0)
            return Outcome.Chosen;
        // Clients send the same few Accept values over and over: each is parsed once.
        if (!Decided.TryGetValue(accept, out var decision))
        {
            decision = FromAccept(accept);
            if (Decided.Count < MaxDecided)
                Decided.TryAdd(accept, decision);
        }
        (representation, indent) = (decision.Representation, decision.Indent);
        return decision.Outcome;
    }

    private readonly record struct Decision(Outcome Outcome, Representation Representation, int? Indent);

    /// <summary>Bounded: Accept is the client's to choose, and a flood of distinct values must not grow memory.</summary>
    private const int MaxDecided = 512;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Decision> Decided = new(StringComparer.Ordinal);

    private static Decision FromAccept(string accept)
    {
        var chosen = new Decision(Outcome.Chosen, Representation.Json, null);
        if (!MediaTypeHeaderValue.TryParseList([accept], out var types))
            return chosen;
        // As DRF: the most specific group first; within a group the renderers' order decides (JSON, then HTML).
        foreach (var group in types.GroupBy(Precedence).OrderByDescending(g => g.Key))
        {
            if (group.FirstOrDefault(media => Matches(media, "application", "json")) is { } json)
            {
                if (json.Parameters.FirstOrDefault(p => p.Name.Equals("indent", StringComparison.OrdinalIgnoreCase))?.Value.Value
                        is { } asked
                    && int.TryParse(asked, System.Globalization.NumberStyles.AllowLeadingSign,
                        System.Globalization.CultureInfo.InvariantCulture, out var spaces))
                    return chosen with { Indent = Math.Clamp(spaces, 0, 8) };
                return chosen;
            }
            if (group.Any(media => Matches(media, "text", "html")))
                return chosen with { Representation = Representation.BrowsableHtml };
        }
        return new Decision(Outcome.NotAcceptable, Representation.Json, null);
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
