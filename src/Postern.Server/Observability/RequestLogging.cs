using System.Buffers;
using System.Diagnostics;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Postern.Server.Http;
using Postern.Server.Sessions;

namespace Postern.Server.Observability;

/// <summary>
/// First in the pipeline: gives every request an id (the <c>X-Request-Id</c> a trusted proxy sent, if well-formed, or a new
/// one), echoes it in the response's <c>X-Request-Id</c>, begins a log scope carrying it (so every line logged for the
/// request has it), and writes one line per request at Information on the category <see cref="Category"/>: method, route
/// template, status, duration, user id and request id. Never the path's values, the query, a header or a body: those may
/// carry passwords, keys and tokens.
/// </summary>
/// <remarks>
/// It runs before the forwarded headers are applied, so the address it checks is the socket's: the proxy's own.
/// </remarks>
public sealed partial class RequestLoggingMiddleware
{
    public const string HeaderName = "X-Request-Id";

    /// <summary>The log category of the request lines (<c>Logging:LogLevel:Postern.Requests</c> silences them alone).</summary>
    public const string Category = "Postern.Requests";

    /// <summary>Longer ids from the proxy are replaced: the id goes into every log line.</summary>
    public const int MaxRequestIdLength = 128;

    private static readonly SearchValues<char> RequestIdCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:");

    private static readonly Func<ILogger, string, IDisposable?> Scope = LoggerMessage.DefineScope<string>("Request {XRequestId}");

    private readonly RequestDelegate _next;
    private readonly ILogger _logger;
    private readonly bool _behindProxy;
    private readonly IReadOnlyList<System.Net.IPNetwork> _proxies;

    public RequestLoggingMiddleware(RequestDelegate next, IOptions<ProxyOptions> proxy, ILoggerFactory loggers)
    {
        _next = next;
        _logger = loggers.CreateLogger(Category);
        var options = proxy.Value;
        // The same trust as the forwarded headers': a proxy is configured, and it is one of the named ones if any are named.
        _behindProxy = options.TrustForwardedProto || options.TrustForwardedHost || options.TrustsForwardedFor;
        _proxies = options.TrustedNetworks();
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        var id = FromTrustedProxy(context) ?? Guid.NewGuid().ToString("N");
        context.TraceIdentifier = id;
        // At response start: an error response clears the headers set before it.
        context.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            context.Response.Headers[HeaderName] = context.TraceIdentifier;
            return Task.CompletedTask;
        }, context);
        using var scope = Scope(_logger, id);
        var status = StatusCodes.Status500InternalServerError;
        try
        {
            await _next(context);
            status = context.Response.StatusCode;
        }
        finally
        {
            if (_logger.IsEnabled(LogLevel.Information))
            {
                var user = context.Features.Get<RequestUser>()?.KnownTokenUser ?? context.Features.Get<RequestSession>()?.KnownUser;
                Served(_logger, context.Request.Method, (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "-", status,
                    Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds, 2), user?.Id, id);
            }
        }
    }

    private string? FromTrustedProxy(HttpContext context)
    {
        if (!_behindProxy)
            return null;
        var sent = context.Request.Headers[HeaderName];
        if (sent.Count != 1 || sent[0] is not { Length: > 0 and <= MaxRequestIdLength } value
            || value.AsSpan().ContainsAnyExcept(RequestIdCharacters))
            return null;
        if (_proxies.Count > 0)
        {
            var peer = context.Connection.RemoteIpAddress;
            if (peer is null)
                return null;
            if (peer.IsIPv4MappedToIPv6)
                peer = peer.MapToIPv4();
            if (!_proxies.Any(network => network.Contains(peer)))
                return null;
        }
        return value;
    }

    [LoggerMessage(200, LogLevel.Information,
        "{Method} {Route} answered {StatusCode} in {DurationMs} ms (user {UserId}, request {RequestId})")]
    private static partial void Served(ILogger logger, string method, string route, int statusCode, double durationMs, long? userId,
        string requestId);
}
