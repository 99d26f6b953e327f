using System.Globalization;
using Microsoft.Extensions.Options;
using Postern.Server.Storage;

namespace Postern.Server.Throttling;

/// <summary>
/// DRF's AnonRateThrottle and UserRateThrottle for the API as a whole (<c>Postern:Throttling:ApiAnonRate</c> and
/// <c>ApiUserRate</c>, both off unless set). Asked by every API view after authentication and permissions, as DRF's
/// <c>initial()</c> asks its throttles, so a request refused before then is not counted. As in DRF, every rate in force
/// counts the request and the longest wait is the answer: an anonymous request counts against its address under
/// <c>anon</c> and, when <c>user</c> is set, under <c>user</c> too; a signed-in one (session or token) against its user id
/// under <c>user</c> only. The counts are <see cref="RequestRateLimiter"/>'s fixed windows, shared by every instance.
/// </summary>
public sealed class ApiThrottle(RequestRateLimiter limiter, IOptions<ThrottlingOptions> options)
{
    public const string AnonScope = "anon";
    public const string UserScope = "user";

    /// <summary>Whether any rate is in force: when not, a view need not even look for the request's user.</summary>
    public bool InForce => options.Value.ApiAnonLimit is not null || options.Value.ApiUserLimit is not null;

    /// <summary>Counts the request of <paramref name="user"/> (null: anonymous): seconds to wait when over a rate, else 0.</summary>
    public async Task<int> CheckAsync(HttpContext context, User? user)
    {
        var settings = options.Value;
        var wait = 0;
        if (user is null && settings.ApiAnonLimit is { } anon)
            wait = await limiter.HitAsync(AnonScope, anon, "address:" + Address(context), context.RequestAborted);
        if (settings.ApiUserLimit is { } perUser)
        {
            var subject = user is null ? "address:" + Address(context) : "user:" + user.Id.ToString(CultureInfo.InvariantCulture);
            wait = Math.Max(wait, await limiter.HitAsync(UserScope, perUser, subject, context.RequestAborted));
        }
        return wait;
    }

    /// <summary>
    /// DRF's get_ident: the connection's address, or the trusted proxy's report of it (Postern:Proxy). Requests with no
    /// address at all share one count, as DRF's do under an empty REMOTE_ADDR.
    /// </summary>
    private static string Address(HttpContext context) =>
        context.Connection.RemoteIpAddress is not { } address ? ""
            : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}
