using System.Collections.Immutable;
using System.Text.Json;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Differential.Tests;

/// <summary>
/// What a client can observe of one response, reduced to facts that two correct servers must share:
/// random values become their shape (length and alphabet), dates disappear, and a cookie's value is
/// described by how it relates to what the client held before (kept, replaced, unmasked).
/// Facts are named strings so that a mismatch reads as a one-line diff.
/// </summary>
public sealed class Observation(ImmutableSortedDictionary<string, string> facts)
{
    public const string Status = "status";
    public const string Content = "content";

    /// <summary>Named so that setting <see cref="Content"/> aside (a prefix) sets this aside too.</summary>
    public const string ContentType = "content-type";
    public const string VaryCookie = "vary: Cookie";
    public const string Allow = "allow";
    public const string JsonKeys = "json keys";

    /// <summary>The keys as the server wrote them: field errors come in the order of the fields (docs/accounts.md).</summary>
    public const string JsonKeyOrder = JsonKeys + ", in order";
    public const string JsonPrefix = "json.";
    public const string Detail = JsonPrefix + "detail";

    /// <summary>Stands for the server's own host:port in texts that name it (failure reasons).</summary>
    public const string OwnHost = "{host}";

    /// <summary>Stands for the server's own port where a text names it under another host name.</summary>
    public const string OwnPort = "{port}";

    public ImmutableSortedDictionary<string, string> Facts { get; } = facts;

    public string? this[string fact] => Facts.GetValueOrDefault(fact);

    public static string CookieFact(string name) => $"cookie {name}";
    public static string CookieAttributesFact(string name) => $"cookie {name} attributes";

    /// <summary>The same observation without the facts whose names start with <paramref name="prefix"/>.</summary>
    public Observation Without(string prefix) =>
        new(Facts.RemoveRange(Facts.Keys.Where(key => key.StartsWith(prefix, StringComparison.Ordinal))));

    /// <summary>The same observation with one fact replaced (or removed when <paramref name="value"/> is null).</summary>
    public Observation With(string fact, string? value) =>
        new(value is null ? Facts.Remove(fact) : Facts.SetItem(fact, value));

    /// <summary>One line per fact that differs: what the peer said, what Postern said.</summary>
    public static IEnumerable<string> Differences(Observation peer, Observation postern)
    {
        foreach (var fact in peer.Facts.Keys.Union(postern.Facts.Keys).Order(StringComparer.Ordinal))
        {
            var expected = peer[fact];
            var actual = postern[fact];
            if (expected != actual)
                yield return $"{fact}: django={expected ?? "(none)"} | postern={actual ?? "(none)"}";
        }
    }

    public override string ToString() => string.Join("\n", Facts.Select(f => $"{f.Key}: {f.Value}"));

    /// <summary>
    /// Reduces <paramref name="response"/>. <paramref name="jarBefore"/> is what the client held when it
    /// sent the request, <paramref name="jarAfter"/> what it holds once it has taken the response's cookies.
    /// The server's own host:port, which differs between the two servers, reads <c>{host}</c> in texts,
    /// and its port alone <c>{port}</c>.
    /// </summary>
    public static Observation Of(RawResponse response, IReadOnlyDictionary<string, string> jarBefore,
        IReadOnlyDictionary<string, string> jarAfter, string ownAuthority)
    {
        var facts = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        facts[Status] = response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        facts[Content] = ContentClass(response);
        if (response.Body.Length > 0 && response.ContentType is { } contentType)
            facts[ContentType] = contentType;
        foreach (var header in SecurityHeaders)
            facts[$"header {header}"] = response.Header(header) ?? "(none)";
        facts[VaryCookie] = VaryMentionsCookie(response) ? "yes" : "no";
        if (response.Header("Allow") is { } allow)
            facts[Allow] = allow;
        foreach (var cookie in response.Cookies)
        {
            facts[CookieFact(cookie.Name)] = DescribeCookie(cookie, jarBefore.GetValueOrDefault(cookie.Name));
            facts[CookieAttributesFact(cookie.Name)] = DescribeAttributes(cookie);
        }
        var csrfSecret = jarAfter.GetValueOrDefault(CookieNames.Csrf);
        if (response.Header(HeaderNames.CsrfToken) is { } tokenHeader)
            facts[$"header {HeaderNames.CsrfToken}"] = DescribeToken(tokenHeader, csrfSecret);
        if (facts[Content] == "json")
            AddJsonFacts(facts, WithoutOwnAddress(response.Body, ownAuthority), csrfSecret);
        return new Observation(facts.ToImmutable());
    }

    /// <summary>What Django's SecurityMiddleware adds to every response with default settings (and one it does not).</summary>
    private static readonly string[] SecurityHeaders =
        ["X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy", "X-Frame-Options"];

    private static string WithoutOwnAddress(string text, string ownAuthority) =>
        text.Replace(ownAuthority, OwnHost, StringComparison.Ordinal)
            .Replace(":" + ownAuthority[(ownAuthority.LastIndexOf(':') + 1)..], ":" + OwnPort, StringComparison.Ordinal);

    private static string ContentClass(RawResponse response)
    {
        if (response.Body.Length == 0)
            return "empty";
        var type = response.ContentHeaders.ContentType?.MediaType ?? "";
        return type switch
        {
            "application/json" => "json",
            "text/html" => "html",
            _ => $"other ({type})",
        };
    }

    private static bool VaryMentionsCookie(RawResponse response) =>
        (response.Header("Vary") ?? "").Split(',').Any(v => v.Trim().Equals("Cookie", StringComparison.OrdinalIgnoreCase));

    private static string DescribeCookie(SetCookie cookie, string? held)
    {
        if (cookie.IsDeletion)
            return "deleted";
        var relation = held switch
        {
            null => "new (client held none)",
            _ when held == cookie.Value => "kept (same value as held)",
            { Length: CsrfToken.MaskedLength } when CsrfToken.CheckFormat(held) == CsrfTokenFormatError.None
                && CsrfToken.Unmask(held) == cookie.Value => "unmasked (the secret of the masked value held)",
            _ => "replaced (differs from the value held)",
        };
        return $"set, {Shape(cookie.Value)}, {relation}";
    }

    /// <summary>
    /// Every attribute as spelled on the wire (Django writes <c>expires</c> lowercase, <c>Max-Age</c>
    /// capitalised), in the server's order, without the date of <c>expires</c>, which depends on the clock.
    /// </summary>
    private static string DescribeAttributes(SetCookie cookie) =>
        string.Join("; ", cookie.Raw.Split(';').Skip(1)
            .Select(part => part.Trim())
            .Select(part => part.StartsWith("expires=", StringComparison.OrdinalIgnoreCase)
                ? part[..part.IndexOf('=', StringComparison.Ordinal)]
                : part));

    private static string DescribeToken(string token, string? csrfCookie)
    {
        var matches = csrfCookie is not null
            && CsrfToken.CheckFormat(token) == CsrfTokenFormatError.None
            && CsrfToken.CheckFormat(csrfCookie) == CsrfTokenFormatError.None
            && CsrfToken.Matches(token, CsrfToken.SecretFromCookieValue(csrfCookie));
        return $"{Shape(token)}, {(matches ? "unmasks to the csrftoken cookie held" : "does not match the csrftoken cookie held")}";
    }

    private static void AddJsonFacts(ImmutableSortedDictionary<string, string>.Builder facts, string body, string? csrfSecret)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            facts[JsonKeys] = "(not JSON)";
            return;
        }
        using var parsed = document;
        var root = parsed.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            facts[JsonKeys] = $"(a JSON {root.ValueKind}, not an object)";
            return;
        }
        facts[JsonKeys] = string.Join(", ", root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        // Named under JsonKeys, so that setting the keys aside sets their order aside too.
        facts[JsonKeyOrder] = string.Join(", ", root.EnumerateObject().Select(p => p.Name));
        foreach (var property in root.EnumerateObject())
        {
            facts[JsonPrefix + property.Name] = property switch
            {
                // Fixed texts and names: compared exactly.
                { Name: var name, Value.ValueKind: JsonValueKind.String } when ExactTexts.Contains(name) =>
                    Quote(property.Value.GetString()!),
                // A user's link: the same user may have another id on the other server.
                { Name: "url", Value.ValueKind: JsonValueKind.String } =>
                    Quote(UserIds().Replace(property.Value.GetString()!, "/users/{id}/")),
                { Name: "csrfToken", Value.ValueKind: JsonValueKind.String } => DescribeToken(property.Value.GetString()!, csrfSecret),
                { Value.ValueKind: JsonValueKind.String } => "string, " + Shape(property.Value.GetString()!),
                // A field's error messages (DRF's shape): compared exactly, in order.
                { Value.ValueKind: JsonValueKind.Array }
                    when property.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
                    "[" + string.Join(", ", property.Value.EnumerateArray().Select(e => Quote(e.GetString()!))) + "]",
                _ => property.Value.ValueKind.ToString().ToLowerInvariant(),
            };
        }
    }

    /// <summary>The texts compared as they are: messages, and the account fields a scenario sets (docs/accounts.md).</summary>
    private static readonly HashSet<string> ExactTexts = ["detail", "username", "status", "email", "first_name", "last_name"];

    private static System.Text.RegularExpressions.Regex UserIds() =>
        new("/users/[0-9]+/", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>A text as a JSON string literal, escaped the same way whatever escaping the server chose.</summary>
    public static string Quote(string text) => JsonSerializer.Serialize(text, QuoteOptions);

    private static readonly JsonSerializerOptions QuoteOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Length and the smallest usual alphabet that holds the value: random keys and secrets compare by form, not
    /// content.
    /// </summary>
    public static string Shape(string value)
    {
        if (value == "\"\"")
            return "\"\" (empty, quoted)";
        string alphabet;
        if (value.All(char.IsAsciiDigit))
            alphabet = "[0-9]";
        else if (value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            alphabet = "[a-z0-9]";
        else if (value.All(char.IsAsciiLetterOrDigit))
            alphabet = "[A-Za-z0-9]";
        else
            alphabet = "other characters";
        return $"{value.Length} chars {alphabet}";
    }
}
