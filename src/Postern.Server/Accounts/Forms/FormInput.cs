using System.Text.Json;
using Microsoft.Net.Http.Headers;
using Postern.Server.Http;

namespace Postern.Server.Accounts;

/// <summary>One field as sent: its text, or that it was a JSON value other than a string (a number, a list...).</summary>
public readonly record struct FormValue(string? Text, bool NotAString);

/// <summary>
/// The fields of an account request's body, read as <c>/auth/login</c> reads its credentials: a JSON object, an urlencoded
/// or a multipart form; any other body carries no fields (Django's request.POST is empty for it). The last duplicate key
/// wins, as in Python's json and a QueryDict's single value.
/// </summary>
public sealed class FormInput
{
    private readonly Dictionary<string, FormValue> _values;

    private FormInput(Dictionary<string, FormValue> values, bool malformed)
    {
        _values = values;
        Malformed = malformed;
    }

    /// <summary>Not JSON, not an object, or bytes that are not text: 400 "Malformed request body."</summary>
    public bool Malformed { get; }

    public FormValue Get(string name) => _values.TryGetValue(name, out var value) ? value : default;

    /// <summary>Whether the body named this field at all (PATCH changes only what it names).</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    private static FormInput Broken => new([], malformed: true);

    /// <summary>No fields: what a declaration without fields reads (its body, if any, is not looked at).</summary>
    public static FormInput Empty { get; } = new([], malformed: false);

    public static async Task<FormInput> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var media)
            && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return await ReadJsonAsync(request, ct);
        }
        if (!request.HasFormContentType)
            return new FormInput([], malformed: false);
        var form = await RequestForm.TryReadAsync(request, ct);
        if (form is null)
            return Broken;
        var values = new Dictionary<string, FormValue>(StringComparer.Ordinal);
        foreach (var (name, sent) in form)
            values[name] = new FormValue(sent.Count == 0 ? "" : sent[^1], NotAString: false);
        return new FormInput(values, malformed: false);
    }

    private static async Task<FormInput> ReadJsonAsync(HttpRequest request, CancellationToken ct)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        if (body.Length == 0)
            return new FormInput([], malformed: false);
        if (JsonRequestText.Decode(body.ToArray()) is not { } text)
            return Broken;
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return Broken;
            var values = new Dictionary<string, FormValue>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                values[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => new FormValue(property.Value.GetString(), NotAString: false),
                    JsonValueKind.Null => new FormValue(null, NotAString: false),
                    _ => new FormValue(null, NotAString: true),
                };
            }
            return new FormInput(values, malformed: false);
        }
        catch (JsonException)
        {
            return Broken;
        }
        catch (InvalidOperationException)
        {
            // A string escaping half a surrogate pair cannot become a .NET string.
            return Broken;
        }
    }
}
