using System.Text.Encodings.Web;
using System.Text.Json;

namespace Postern.Server.Browsable;

/// <summary>A JSON body as the browsable page shows it: pretty-printed, every http(s) string a link, every piece escaped.</summary>
public static class JsonView
{
    private static readonly JsonSerializerOptions ReadableJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Indented by four, as DRF's page; the relaxed encoder keeps text readable, Html.Text makes it safe.</summary>
    private static readonly JsonWriterOptions ReadableWriter = new()
    {
        Indented = true,
        IndentSize = 4,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The body as a JSON tree, for printing: written once more, off the hot path (HTML is for people).</summary>
    public static JsonElement Parse(Api.ApiBody body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            body.Write(writer);
        return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
    }

    /// <summary>JSON text for a textarea: written by <paramref name="write"/>, indented as the page shows JSON.</summary>
    public static string Text(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, ReadableWriter))
            write(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Pretty-printed JSON in which every http(s) string is a link.</summary>
    public static void Write(Html html, JsonElement element, int depth = 0)
    {
        var indent = new string(' ', (depth + 1) * 4);
        var closing = new string(' ', depth * 4);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object when !element.EnumerateObject().Any():
                html.Raw("{}");
                break;
            case JsonValueKind.Object:
                html.Raw("{\n");
                var firstProperty = true;
                foreach (var property in element.EnumerateObject())
                {
                    html.Raw(firstProperty ? "" : ",\n").Raw(indent)
                        .Raw("<span class=\"key\">").Text(Literal(property.Name)).Raw("</span>: ");
                    Write(html, property.Value, depth + 1);
                    firstProperty = false;
                }
                html.Raw("\n").Raw(closing).Raw("}");
                break;
            case JsonValueKind.Array when element.GetArrayLength() == 0:
                html.Raw("[]");
                break;
            case JsonValueKind.Array:
                html.Raw("[\n");
                var firstItem = true;
                foreach (var item in element.EnumerateArray())
                {
                    html.Raw(firstItem ? "" : ",\n").Raw(indent);
                    Write(html, item, depth + 1);
                    firstItem = false;
                }
                html.Raw("\n").Raw(closing).Raw("]");
                break;
            case JsonValueKind.String when element.GetString() is { } url && IsWebLink(url):
                html.Raw("\"<a href=\"").Text(url).Raw("\" rel=\"nofollow\">").Text(url).Raw("</a>\"");
                break;
            case JsonValueKind.String:
                html.Text(Literal(element.GetString()!));
                break;
            default:
                html.Text(element.GetRawText());
                break;
        }
    }

    /// <summary>Only http(s): a <c>javascript:</c> URL in data must stay text.</summary>
    public static bool IsWebLink(string text) =>
        text.StartsWith("http://", StringComparison.Ordinal) || text.StartsWith("https://", StringComparison.Ordinal);

    /// <summary>A JSON string literal as a person reads it (no \u escapes); the HTML encoder makes it safe.</summary>
    private static string Literal(string value) => JsonSerializer.Serialize(value, ReadableJson);
}
