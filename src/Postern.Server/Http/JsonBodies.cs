using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Postern.Server.Http;

/// <summary>DRF's error body: <c>{"detail": "..."}</c>.</summary>
public sealed record DetailBody(string Detail);

/// <summary>The JSON bodies Postern writes, generated at compile time so writing them does not reflect.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DetailBody))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class PosternJsonContext : JsonSerializerContext
{
    /// <summary>UTF-8 output like DRF's (ensure_ascii=False); HTML is escaped where HTML is written, not here.</summary>
    public static JsonSerializerOptions WireOptions => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static PosternJsonContext Wire { get; } = new(WireOptions);
}

/// <summary>Writes JSON responses as DRF does: <c>application/json</c> without a charset, compact.</summary>
public static class JsonResponses
{
    public const string ContentType = "application/json";

    /// <summary>UTF-8 as DRF writes it (ensure_ascii=False), compact.</summary>
    private static readonly JsonWriterOptions WireWriting = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>Per-thread, so writing a body allocates nothing: the bytes are copied into the response pipe before any await.</summary>
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>A body that grew a thread's buffer beyond this (a large page) is not kept for the next one.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    public static Task WriteAsync<T>(HttpContext context, int status, T body, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        return SendAsync(context, (body, type), static (writer, state) => JsonSerializer.Serialize(writer, state.body, state.type));
    }

    public static Task WriteDetailAsync(HttpContext context, int status, string detail) =>
        WriteAsync(context, status, new DetailBody(detail), PosternJsonContext.Wire.DetailBody);

    /// <summary>
    /// A detail with a flag a client can test rather than parse the message: <c>{"detail": "...", "mfa_required": true}</c>.
    /// </summary>
    public static Task WriteFlaggedDetailAsync(HttpContext context, int status, string detail, string flag)
    {
        context.Response.StatusCode = status;
        return SendAsync(context, (detail, flag), static (writer, state) =>
        {
            writer.WriteStartObject();
            writer.WriteString("detail", state.detail);
            writer.WriteBoolean(state.flag, true);
            writer.WriteEndObject();
        });
    }

    /// <summary>The JSON detail for an error answer nothing else wrote a body for.</summary>
    public static Task WriteEmptyAnswerAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status404NotFound => "Not found.",
            StatusCodes.Status405MethodNotAllowed => $"Method \"{context.Request.Method}\" not allowed.",
            StatusCodes.Status413PayloadTooLarge => "Request body too large.",
            StatusCodes.Status415UnsupportedMediaType => "Unsupported media type in request.",
            < 500 => "Bad request.",
            _ => "A server error occurred.",
        };
        return WriteDetailAsync(context, status, detail);
    }

    /// <summary>DRF's 405: <c>Method "X" not allowed.</c> with an <c>Allow</c> header.</summary>
    public static Task WriteMethodNotAllowedAsync(HttpContext context, string allow)
    {
        context.Response.Headers.Allow = allow;
        return WriteDetailAsync(context, StatusCodes.Status405MethodNotAllowed, $"Method \"{context.Request.Method}\" not allowed.");
    }

    /// <summary>
    /// Writes the JSON that <paramref name="write"/> produces as the whole body, with a Content-Length as Django sends
    /// (bodies are small: whole, not chunked). A HEAD answer gets the headers alone.
    /// </summary>
    /// <param name="indent">Pretty-printed with this many spaces (DRF's <c>indent=N</c>); compact when null or 0.</param>
    public static Task SendAsync<TState>(HttpContext context, TState state, Action<Utf8JsonWriter, TState> write, int? indent = null)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var writer = WriterFor(buffer, indent);
        write(writer, state);
        writer.Flush();
        var response = context.Response;
        response.ContentType = ContentType;
        response.ContentLength = buffer.WrittenCount;
        if (!HttpMethods.IsHead(context.Request.Method))
            response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > KeptBufferBytes)
            t_buffer = null;
        var flushed = response.BodyWriter.FlushAsync(context.RequestAborted);
        return flushed.IsCompletedSuccessfully ? Task.CompletedTask : flushed.AsTask();
    }

    private static Utf8JsonWriter WriterFor(ArrayBufferWriter<byte> buffer, int? indent)
    {
        if (indent is > 0)
            return new Utf8JsonWriter(buffer, WireWriting with { Indented = true, IndentSize = indent.Value });
        if (t_writer is null)
            t_writer = new Utf8JsonWriter(buffer, WireWriting);
        else
            t_writer.Reset(buffer);
        return t_writer;
    }
}
