using System.Text.Json;
using System.Text.Json.Nodes;

namespace Postern.Cli;

/// <summary>
/// HTTPie's request items: <c>field=value</c> (a JSON string), <c>field:=json</c> (a raw JSON value:
/// numbers, booleans, lists, objects) and <c>name==value</c> (a query parameter). The first separator
/// in an item wins, so values may contain the others (<c>note=a=b</c>).
/// </summary>
public sealed class RequestItems
{
    private RequestItems(JsonObject? body, List<KeyValuePair<string, string>> query)
    {
        Body = body;
        Query = query;
    }

    /// <summary>The JSON object built from the data fields; null when there were none.</summary>
    public JsonObject? Body { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Query { get; }

    public static RequestItems Parse(IEnumerable<string> items)
    {
        JsonObject? body = null;
        var query = new List<KeyValuePair<string, string>>();
        foreach (var item in items)
        {
            var (name, separator, value) = Split(item);
            if (name.Length == 0)
                throw new UsageException($"'{item}': a request item needs a name before '{separator}'");
            switch (separator)
            {
                case "==":
                    query.Add(new(name, value));
                    break;
                case ":=":
                    (body ??= [])[name] = ParseJson(value, $"'{item}': the value after ':=' must be JSON");
                    break;
                default:
                    (body ??= [])[name] = JsonValue.Create(value);
                    break;
            }
        }
        return new RequestItems(body, query);
    }

    private static (string Name, string Separator, string Value) Split(string item)
    {
        for (var i = 0; i < item.Length; i++)
        {
            foreach (var separator in new[] { ":=", "==", "=" })
            {
                if (string.CompareOrdinal(item, i, separator, 0, separator.Length) == 0)
                    return (item[..i], separator, item[(i + separator.Length)..]);
            }
        }
        throw new UsageException($"'{item}' is not a request item: use field=value, field:=json or name==value");
    }

    public static JsonNode? ParseJson(string text, string context)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new UsageException($"{context}: {e.Message}");
        }
    }

    /// <summary>The target with the query parameters appended (escaped).</summary>
    public string WithQuery(string target)
    {
        if (Query.Count == 0)
            return target;
        var parameters = string.Join('&', Query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
        var fragment = target.IndexOf('#', StringComparison.Ordinal);
        var (head, tail) = fragment >= 0 ? (target[..fragment], target[fragment..]) : (target, "");
        return head + (head.Contains('?', StringComparison.Ordinal) ? "&" : "?") + parameters + tail;
    }
}
