using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Postern.Server.Http;

/// <summary>DRF's error body: <c>{"detail": "..."}</c>.</summary>
public sealed record DetailBody(string Detail);

/// <summary>The JSON bodies Postern writes, generated at compile time so writing them does not reflect.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DetailBody))]
[JsonSerializable(typeof(Accounts.CsrfTokenBody))]
[JsonSerializable(typeof(Accounts.LoginSucceededBody))]
[JsonSerializable(typeof(Accounts.CurrentUserBody))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class PosternJsonContext : JsonSerializerContext
{
    /// <summary>UTF-8 output like DRF's (ensure_ascii=False); HTML is escaped where HTML is written, not here.</summary>
    public static PosternJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>Writes JSON responses as DRF does: <c>application/json</c> without a charset, compact.</summary>
public static class JsonResponses
{
    public const string ContentType = "application/json";

    public static Task WriteAsync<T>(HttpContext context, int status, T body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        // Bodies are small: serialize whole and send a Content-Length, as Django does, rather than chunks.
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, type);
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    public static Task WriteDetailAsync(HttpContext context, int status, string detail) =>
        WriteAsync(context, status, new DetailBody(detail), PosternJsonContext.Wire.DetailBody);

    /// <summary>DRF's 405: <c>Method "X" not allowed.</c> with an <c>Allow</c> header.</summary>
    public static Task WriteMethodNotAllowedAsync(HttpContext context, string allow)
    {
        context.Response.Headers.Allow = allow;
        return WriteDetailAsync(context, StatusCodes.Status405MethodNotAllowed, $"Method \"{context.Request.Method}\" not allowed.");
    }
}
