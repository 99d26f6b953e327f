using System.Text.Json;
using System.Text.RegularExpressions;

namespace Postern.Server.Api;

/// <summary>Validation errors by field, in field order, with DRF's messages.</summary>
public sealed class FieldErrors
{
    public const string Required = "This field is required.";
    public const string Blank = "This field may not be blank.";
    public const string Null = "This field may not be null.";
    public const string NotAString = "Not a valid string.";

    private readonly List<KeyValuePair<string, List<string>>> _errors = [];

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        var entry = _errors.FirstOrDefault(e => e.Key == field);
        if (entry.Value is null)
            _errors.Add(new(field, [message]));
        else
            entry.Value.Add(message);
    }

    public bool Has(string field) => _errors.Any(e => e.Key == field);

    public System.Text.Json.Nodes.JsonObject ToJson()
    {
        var json = new System.Text.Json.Nodes.JsonObject();
        foreach (var (field, messages) in _errors)
            json[field] = new System.Text.Json.Nodes.JsonArray(messages.Select(m => (System.Text.Json.Nodes.JsonNode?)m).ToArray());
        return json;
    }

    public static string MaxLength(int max) => $"Ensure this field has no more than {max} characters.";
}

/// <summary>DRF's field rules for the fields Postern's resources have.</summary>
public static partial class Fields
{
    /// <summary>
    /// DRF's CharField: strings (trimmed), numbers become strings, anything else is refused; blank and
    /// max length checked. Returns null when invalid (the error is recorded) or absent (<paramref name="present"/> false).
    /// </summary>
    /// <param name="validate">The model field's own validator (e.g. the username pattern), which DRF runs before the length and NUL checks.</param>
    public static string? ReadString(ApiInput input, string name, FieldErrors errors, bool required, bool allowBlank, int maxLength, out bool present,
        Func<string, string?>? validate = null)
    {
        present = input.TryGet(name, out var value);
        if (!present)
        {
            if (required)
                errors.Add(name, FieldErrors.Required);
            return null;
        }
        string text;
        if (value.Form is { } form)
        {
            text = form.Count == 0 ? "" : form[^1];
        }
        else
        {
            var json = value.Json!.Value;
            switch (json.ValueKind)
            {
                case JsonValueKind.String:
                    text = json.GetString()!;
                    break;
                case JsonValueKind.Number:
                    text = ApiInput.PythonNumberText(json);
                    break;
                case JsonValueKind.Null:
                    errors.Add(name, FieldErrors.Null);
                    return null;
                default:
                    errors.Add(name, FieldErrors.NotAString);
                    return null;
            }
        }
        text = text.Trim();
        if (text.Length == 0)
        {
            if (!allowBlank)
            {
                errors.Add(name, FieldErrors.Blank);
                return null;
            }
            return "";
        }
        // DRF runs every validator and reports each failure: the model's own, the length, and no NUL (which no database column stores).
        var problem = validate?.Invoke(text);
        var tooLong = text.Length > maxLength;
        var holdsNul = text.Contains('\0', StringComparison.Ordinal);
        if (problem is not null)
            errors.Add(name, problem);
        if (tooLong)
            errors.Add(name, FieldErrors.MaxLength(maxLength));
        if (holdsNul)
            errors.Add(name, "Null characters are not allowed.");
        return problem is not null || tooLong || holdsNul ? null : text;
    }

    /// <summary>
    /// DRF's ManyRelatedField of HyperlinkedRelatedField: a list of URLs (any host) whose path is a
    /// detail URL of <paramref name="collectionPath"/>. Returns the ids, or null when absent or invalid.
    /// </summary>
    public static IReadOnlyList<long>? ReadHyperlinks(ApiInput input, string name, string collectionPath, FieldErrors errors, bool partial, out bool present)
    {
        present = input.TryGet(name, out var value);
        if (!present)
        {
            // HTML forms cannot send an empty list, so a missing field means none (DRF's HTML input rule).
            if (input.IsForm && !partial)
            {
                present = true;
                return [];
            }
            return null;
        }
        IEnumerable<FieldValue> items;
        if (value.Form is { } form)
        {
            items = form.Select(f => new FieldValue(null, [f]));
        }
        else
        {
            var json = value.Json!.Value;
            if (json.ValueKind == JsonValueKind.Null)
            {
                errors.Add(name, FieldErrors.Null);
                return null;
            }
            if (json.ValueKind != JsonValueKind.Array)
            {
                errors.Add(name, $"Expected a list of items but got type \"{ApiInput.PythonTypeName(json)}\".");
                return null;
            }
            items = json.EnumerateArray().Select(e => new FieldValue(e, null));
        }
        var ids = new List<long>();
        foreach (var item in items)
        {
            var url = item.Form is { } f ? f[0] : item.Json!.Value.ValueKind == JsonValueKind.String ? item.Json.Value.GetString() : null;
            if (url is null)
            {
                errors.Add(name, $"Incorrect type. Expected URL string, received {item.PythonTypeName}.");
                return null;
            }
            var path = url.StartsWith("http:", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https:", StringComparison.OrdinalIgnoreCase)
                ? (Uri.TryCreate(url, UriKind.Absolute, out var absolute) ? absolute.AbsolutePath : "")
                : url;
            var match = DetailPath().Match(path);
            if (!match.Success)
            {
                errors.Add(name, "Invalid hyperlink - No URL match.");
                return null;
            }
            if (match.Groups["collection"].Value != collectionPath)
            {
                errors.Add(name, "Invalid hyperlink - Incorrect URL match.");
                return null;
            }
            if (!long.TryParse(match.Groups["id"].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            {
                errors.Add(name, "Invalid hyperlink - Object does not exist.");
                return null;
            }
            ids.Add(id);
        }
        return ids;
    }

    [GeneratedRegex(@"^/api/(?<collection>[a-z-]+)/(?<id>[^/.]+)/$")]
    private static partial Regex DetailPath();
}
