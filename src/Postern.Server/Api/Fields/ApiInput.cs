using System.Globalization;
using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace Postern.Server.Api;

/// <summary>A field as the client sent it: from a JSON body, or the values of a form field.</summary>
public readonly record struct FieldValue(JsonElement? Json, IReadOnlyList<string>? Form)
{
    /// <summary>Python's name for the type of the value, which DRF puts in its messages.</summary>
    public string PythonTypeName => Json is { } json ? PythonValues.TypeName(json) : "str";

    /// <summary>JSON <c>null</c> (a form has no null: an empty form value is the empty string).</summary>
    public bool IsNull => Json is { ValueKind: JsonValueKind.Null };

    /// <summary>A form field's value as DRF reads a single value from a QueryDict: the last one sent.</summary>
    public string? LastFormValue => Form is { } form ? (form.Count == 0 ? "" : form[^1]) : null;
}

/// <summary>
/// The parsed body of an API request, as DRF's parsers give it: JSON, urlencoded or multipart;
/// an empty body is an empty object; anything else is 415.
/// </summary>
public sealed class ApiInput
{
    private readonly JsonElement? _json;
    private readonly IFormCollection? _form;

    private ApiInput(JsonElement? json, IFormCollection? form)
    {
        _json = json;
        _form = form;
    }

    public static readonly ApiInput Empty = new(null, null);

    /// <summary>Whether the body is an object (a dict, in DRF's words); otherwise the Python type name of what it is.</summary>
    public string? NotAnObjectTypeName => _json is { ValueKind: not JsonValueKind.Object } json ? PythonValues.TypeName(json) : null;

    /// <summary>Whether the body came from a form (missing list fields then mean "none", as DRF reads HTML input).</summary>
    public bool IsForm => _form is not null;

    public bool TryGet(string name, out FieldValue value)
    {
        value = default;
        if (_json is { ValueKind: JsonValueKind.Object } json)
        {
            // The last duplicate key wins, as in Python's json.
            JsonElement? found = null;
            foreach (var property in json.EnumerateObject())
            {
                if (property.NameEquals(name))
                    found = property.Value;
            }
            if (found is null)
                return false;
            value = new FieldValue(found, null);
            return true;
        }
        if (_form is not null && _form.TryGetValue(name, out var values))
        {
            value = new FieldValue(null, values.Select(v => v ?? "").ToList());
            return true;
        }
        return false;
    }

    public sealed class UnsupportedMediaTypeException(string mediaType) : Exception($"Unsupported media type \"{mediaType}\" in request.");

    public sealed class ParseErrorException(string message) : Exception(message);

    /// <exception cref="UnsupportedMediaTypeException">A body of a type no parser takes.</exception>
    /// <exception cref="ParseErrorException">Malformed JSON.</exception>
    public static async Task<ApiInput> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var media)
            ? media.MediaType.Value ?? ""
            : request.ContentType ?? "";
        if (request.HasFormContentType)
            return new ApiInput(null,
                await Http.RequestForm.TryReadAsync(request, ct) ?? throw new ParseErrorException("Malformed request."));
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        if (body.Length == 0)
            return Empty;
        if (!mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            throw new UnsupportedMediaTypeException(request.ContentType ?? "");
        var bytes = body.ToArray();
        // DRF decodes the stream as UTF-8 before parsing, so invalid bytes are its ParseError; System.Text.Json
        // would only fail when a field reads the string, as a 500.
        if (Utf8Problem(bytes) is { } problem)
            throw new ParseErrorException("JSON parse error - " + problem);
        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (!AllStringsReadable(document.RootElement))
                throw new ParseErrorException("JSON parse error - a string holds a lone surrogate escape (\\ud800-\\udfff).");
            return new ApiInput(document.RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            throw new ParseErrorException("JSON parse error - " + (e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]));
        }
    }

    /// <summary>Where strict UTF-8 decoding fails, worded after CPython's UnicodeDecodeError; null for valid UTF-8.</summary>
    private static string? Utf8Problem(ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length;)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes[i..], out _, out var consumed);
            if (status != System.Buffers.OperationStatus.Done)
            {
                var reason = status == System.Buffers.OperationStatus.NeedMoreData ? "unexpected end of data"
                    : consumed <= 1 ? "invalid start byte" : "invalid continuation byte";
                return $"'utf-8' codec can't decode byte 0x{bytes[i]:x2} in position {i}: {reason}";
            }
            i += consumed;
        }
        return null;
    }

    /// <summary>
    /// An escaped lone surrogate ("\ud800") is valid JSON but no .NET string: reading it throws. Python keeps it
    /// and Django fails later, with a 500, when the database encodes it; refusing it here makes it the client's 400.
    /// </summary>
    private static bool AllStringsReadable(JsonElement element)
    {
        try
        {
            return Readable(element);
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        static bool Readable(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    _ = element.GetString();
                    return true;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        if (!Readable(item))
                            return false;
                    }
                    return true;
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        _ = property.Name;
                        if (!Readable(property.Value))
                            return false;
                    }
                    return true;
                default:
                    return true;
            }
        }
    }
}
