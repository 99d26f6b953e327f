using Postern.Server.Storage;

namespace Postern.Server.Http;

/// <summary>
/// The last line of defence: whatever goes wrong below becomes a JSON error of the right class:
/// a malformed or oversized request is the client's 4xx, an unreachable database a 503 the client
/// may retry, anything else a 500 that reveals nothing.
/// </summary>
public sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await RespondAsync(context, e.StatusCode, DescribeBadRequest(e.StatusCode));
        }
        catch (InvalidDataException) when (!context.Response.HasStarted)
        {
            // Form parsing limits (too many fields, a field too long, a malformed multipart body).
            await RespondAsync(context, StatusCodes.Status400BadRequest, "Malformed request.");
        }
        catch (IOException e) when (e.InnerException is OverflowException && !context.Response.HasStarted)
        {
            // Kestrel's chunked-body reader overflowing on a chunk size of more than 64 bits: the client's malformed body.
            await RespondAsync(context, StatusCodes.Status400BadRequest, "Malformed request.");
        }
        catch (AuthenticationFailedException e) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.Headers.WWWAuthenticate = e.Challenge;
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status401Unauthorized, e.Detail);
        }
        catch (StoreUnavailableException e) when (!context.Response.HasStarted)
        {
            logger.StorageUnavailable(e, context.Request.Method, context.Request.Path.Value ?? "");
            await RespondAsync(context, StatusCodes.Status503ServiceUnavailable,
                "Service temporarily unavailable, try again shortly.", retryAfter: "1");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            logger.UnhandledError(e, context.Request.Method, context.Request.Path.Value ?? "");
            await RespondAsync(context, StatusCodes.Status500InternalServerError, "A server error occurred.");
        }
    }

    // Kestrel's verdicts on a body reach the application as these three statuses.
    private static string DescribeBadRequest(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "Request body too large.",
        StatusCodes.Status408RequestTimeout => "Request body not received in time.",
        _ => "Malformed request.",
    };

    private static Task RespondAsync(HttpContext context, int status, string detail, string? retryAfter = null)
    {
        context.Response.Clear();
        if (retryAfter is not null)
            context.Response.Headers.RetryAfter = retryAfter;
        return JsonResponses.WriteDetailAsync(context, status, detail);
    }
}

/// <summary>The headers Django's SecurityMiddleware adds to every response by default.</summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        // At response start, so that an error response that cleared the headers still gets them.
        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpResponse)state).Headers;
            headers.XContentTypeOptions = "nosniff";
            // As Django's setdefault: a page with a stricter policy of its own (a token in its URL) keeps it.
            if (!headers.ContainsKey("Referrer-Policy"))
                headers["Referrer-Policy"] = "same-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            return Task.CompletedTask;
        }, context.Response);
        return next(context);
    }
}

/// <summary>The request pipeline's log messages, generated at compile time.</summary>
internal static partial class HttpLog
{
    [LoggerMessage(3, LogLevel.Warning, "Storage unavailable for {Method} {Path}")]
    public static partial void StorageUnavailable(this ILogger logger, Exception error, string method, string path);

    [LoggerMessage(4, LogLevel.Error, "Unhandled error for {Method} {Path}")]
    public static partial void UnhandledError(this ILogger logger, Exception error, string method, string path);
}
