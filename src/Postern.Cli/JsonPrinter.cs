using System.Text.Encodings.Web;
using System.Text.Json;

namespace Postern.Cli;

/// <summary>
/// Writes JSON indented, and in colour when asked (keys, strings, numbers and literals each their own),
/// keeping non-ASCII text readable instead of \u-escaped.
/// </summary>
public sealed class JsonPrinter(TextWriter output, bool colors)
{
    private const int IndentWidth = 4;
    private const string Reset = "\u001b[0m";
    private const string KeyColor = "\u001b[34;1m";
    private const string StringColor = "\u001b[33m";
    private const string NumberColor = "\u001b[36m";
    private const string LiteralColor = "\u001b[35m";

    public void Write(JsonElement value)
    {
        Write(value, depth: 0);
        output.WriteLine();
    }

    private void Write(JsonElement value, int depth)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = value.EnumerateObject().ToList();
                if (properties.Count == 0)
                {
                    output.Write("{}");
                    return;
                }
                output.Write('{');
                for (var i = 0; i < properties.Count; i++)
                {
                    NewLine(depth + 1);
                    Colored(KeyColor, Quote(properties[i].Name));
                    output.Write(": ");
                    Write(properties[i].Value, depth + 1);
                    if (i < properties.Count - 1)
                        output.Write(',');
                }
                NewLine(depth);
                output.Write('}');
                return;
            case JsonValueKind.Array:
                var items = value.GetArrayLength();
                if (items == 0)
                {
                    output.Write("[]");
                    return;
                }
                output.Write('[');
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    NewLine(depth + 1);
                    Write(item, depth + 1);
                    if (++index < items)
                        output.Write(',');
                }
                NewLine(depth);
                output.Write(']');
                return;
            case JsonValueKind.String:
                Colored(StringColor, Quote(value.GetString()!));
                return;
            case JsonValueKind.Number:
                Colored(NumberColor, value.GetRawText());
                return;
            default:
                Colored(LiteralColor, value.GetRawText());
                return;
        }
    }

    private void NewLine(int depth)
    {
        output.WriteLine();
        output.Write(new string(' ', depth * IndentWidth));
    }

    private void Colored(string color, string text)
    {
        if (colors)
            output.Write(color);
        output.Write(text);
        if (colors)
            output.Write(Reset);
    }

    private static string Quote(string text) => "\"" + JsonEncodedText.Encode(text, JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\"";
}
