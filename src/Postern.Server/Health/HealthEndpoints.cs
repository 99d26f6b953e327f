using System.Text.Json.Serialization;
using Postern.Server.Http;
using Postern.Server.Storage;
using Postern.Server.Storage.Caching;

namespace Postern.Server.Health;

/// <summary>
/// A probe's answer: <c>{"status": "ok"}</c>, <c>{"status": "ready"}</c> or
/// <c>{"status": "unavailable", "detail": ...}</c>.
/// </summary>
public sealed record HealthBody(
    string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail = null);

[JsonSerializable(typeof(HealthBody))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
internal sealed partial class HealthJsonContext : JsonSerializerContext;

/// <summary>
/// <c>GET /healthz</c> (the process answers, no I/O) and <c>GET /readyz</c> (the database answers a trivial query, and
/// Redis a PING when configured).
/// Placed before the session and CSRF middleware: probes from orchestrators and load balancers carry no cookies,
/// must never create a session or a CSRF cookie, and must not be cached by anything in between.
/// </summary>
public sealed class HealthEndpointsMiddleware(
    RequestDelegate next, IStoreAdministration store, RedisConnectionHolder redis, ILogger<HealthEndpointsMiddleware> logger)
{
    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";

    /// <summary>A probe that waits longer than this is as good as a failure to the orchestrator asking.</summary>
    private static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(3);

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value?.TrimEnd('/');
        if (!string.Equals(path, LivenessPath, StringComparison.Ordinal) && !string.Equals(path, ReadinessPath, StringComparison.Ordinal))
            return next(context);
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
            return JsonResponses.WriteMethodNotAllowedAsync(context, "GET, HEAD");
        if (string.Equals(path, LivenessPath, StringComparison.Ordinal))
            return WriteAsync(context, StatusCodes.Status200OK, new HealthBody("ok"));
        if (string.Equals(path, ReadinessPath, StringComparison.Ordinal))
            return ReadinessAsync(context);
        return next(context);
    }

    private async Task ReadinessAsync(HttpContext context)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(ReadinessTimeout);
        try
        {
            await store.PingAsync(timeout.Token);
        }
        catch (Exception e)
            when (e is StoreUnavailableException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            var detail = e is OperationCanceledException ? "The database did not answer in time." : "The database does not answer.";
            logger.NotReady(e, detail);
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, new HealthBody("unavailable", detail));
            return;
        }
        try
        {
            if (redis.Connection is { } connection)
                await connection.PingAsync(timeout.Token);
        }
        catch (Exception e)
            when (e is StoreUnavailableException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            logger.NotReady(e, "Redis does not answer.");
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, new HealthBody("unavailable", "Redis does not answer."));
            return;
        }
        await WriteAsync(context, StatusCodes.Status200OK, new HealthBody("ready"));
    }

    private static Task WriteAsync(HttpContext context, int status, HealthBody body)
    {
        context.Response.Headers.CacheControl = "no-store";
        return JsonResponses.WriteAsync(context, status, body, HealthJsonContext.Default.HealthBody);
    }
}

/// <summary>The probes' log messages, generated at compile time.</summary>
internal static partial class HealthLog
{
    [LoggerMessage(5, LogLevel.Warning, "Not ready: {Reason}")]
    public static partial void NotReady(this ILogger logger, Exception error, string reason);
}
