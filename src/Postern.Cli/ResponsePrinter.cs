using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Postern.Cli;

/// <summary>Which parts of a response to print, HTTPie's <c>--print</c>: <c>h</c> the status line and headers, <c>b</c> the body.</summary>
public sealed record PrintParts(bool Head, bool Body)
{
    public const string Letters = "hb";

    public static PrintParts Parse(string? letters) =>
        string.IsNullOrEmpty(letters)
            ? new PrintParts(Head: false, Body: true)
            : new PrintParts(letters.Contains('h'), letters.Contains('b'));
}

/// <summary>
/// Prints a response to stdout: <c>HTTP/1.1 200 OK</c> and headers, then the body, JSON pretty-printed (and coloured on
/// a terminal).
/// </summary>
public sealed class ResponsePrinter(TextWriter output, bool colors)
{
    private const string Reset = "\u001b[0m";
    private const string ProtocolColor = "\u001b[34m";
    private const string HeaderNameColor = "\u001b[36m";

    public JsonPrinter Json { get; } = new(output, colors);

    public void WriteHead(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var statusColor = status switch
        {
            < 300 => "\u001b[32;1m",
            < 400 => "\u001b[33;1m",
            _ => "\u001b[31;1m",
        };
        Colored(ProtocolColor, $"HTTP/{response.Version.Major}.{response.Version.Minor}");
        output.Write(' ');
        Colored(statusColor,
            string.Create(CultureInfo.InvariantCulture, $"{status} {response.ReasonPhrase ?? StatusText.Reason(response.StatusCode)}"));
        output.WriteLine();
        IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers = response.Headers;
        headers = headers.Concat(response.Content.Headers);
        foreach (var (name, values) in headers)
        {
            foreach (var value in SeparateLines(name, values))
            {
                Colored(HeaderNameColor, name);
                output.WriteLine($": {value}");
            }
        }
        output.WriteLine();
    }

    /// <summary>Set-Cookie (and anything else the server sent more than once) one line each, as on the wire.</summary>
    private static IEnumerable<string> SeparateLines(string name, IEnumerable<string> values) =>
        name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase) ? values : [string.Join(", ", values)];

    public async Task WriteBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (text.Length == 0)
            return;
        if (LooksLikeJson(response.Content.Headers.ContentType) && TryParse(text) is { } document)
        {
            using (document)
                Json.Write(document.RootElement);
            return;
        }
        output.Write(text);
        if (!text.EndsWith('\n'))
            output.WriteLine();
    }

    private static bool LooksLikeJson(MediaTypeHeaderValue? type) =>
        type?.MediaType is null || type.MediaType.Contains("json", StringComparison.OrdinalIgnoreCase) || type.MediaType == "text/plain";

    private static JsonDocument? TryParse(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void Colored(string color, string text)
    {
        if (colors)
            output.Write(color);
        output.Write(text);
        if (colors)
            output.Write(Reset);
    }
}

/// <summary>HTTP reason phrases, for errors known only by their status code.</summary>
public static class StatusText
{
    public static string Reason(System.Net.HttpStatusCode status) => (int)status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => SpacedName(status),
    };

    /// <summary><c>UnprocessableEntity</c> → <c>Unprocessable Entity</c>.</summary>
    private static string SpacedName(System.Net.HttpStatusCode status) =>
        string.Concat(status.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? " " + c : c.ToString()));
}
