using System.Text.Json.Nodes;

namespace Postern.Server.Api;

/// <summary>Validation errors by field, in field order, with DRF's messages: <c>{"name": ["message", ...]}</c>.</summary>
public sealed class FieldErrors
{
    /// <summary>DRF's key for errors about the body as a whole.</summary>
    public const string NonFieldErrors = "non_field_errors";

    private readonly List<KeyValuePair<string, List<string>>> _errors = [];

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message) => Messages(field).Add(message);

    /// <summary>Adds the messages; none adds no entry.</summary>
    public void AddRange(string field, IReadOnlyCollection<string> messages)
    {
        if (messages.Count > 0)
            Messages(field).AddRange(messages);
    }

    public bool Has(string field) => _errors.Any(e => e.Key == field);

    public IEnumerable<KeyValuePair<string, List<string>>> All => _errors;

    public static FieldErrors Of(string field, string message)
    {
        var errors = new FieldErrors();
        errors.Add(field, message);
        return errors;
    }

    private List<string> Messages(string field)
    {
        var entry = _errors.FirstOrDefault(e => e.Key == field);
        if (entry.Value is not null)
            return entry.Value;
        var messages = new List<string>();
        _errors.Add(new(field, messages));
        return messages;
    }

    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var (field, messages) in _errors)
            json[field] = new JsonArray(messages.Select(m => (JsonNode?)m).ToArray());
        return json;
    }
}

/// <summary>Input that failed validation: the pipeline answers 400 with these errors.</summary>
public sealed class ApiValidationException(FieldErrors errors) : Exception("The input is not valid.")
{
    public FieldErrors Errors { get; } = errors;

    public static ApiValidationException Of(Field field, string message) => new(FieldErrors.Of(field.Name, message));
}
