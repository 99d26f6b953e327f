using System.Text;
using Postern.Server.Storage;

namespace Postern.Server.Audit;

/// <summary>
/// Records security events (Postern.Protocol's <c>AuditEventKinds</c>): a row in <c>audit_events</c>, read back through
/// <c>GET /api/events/</c>, and the same event as a structured log entry for whatever collects logs. Written in the request
/// that caused it, after the change itself, so an event is never recorded for a change that did not happen; a failed write
/// fails the request (503), as the change's own write would have.
/// </summary>
public sealed partial class AuditTrail(AuditStore store, TimeProvider time, ILogger<AuditTrail> logger)
{
    /// <summary>Longer user agents are cut here, as sessions cut theirs: a header must not grow the table without bound.</summary>
    public const int MaxUserAgentLength = 300;

    /// <summary>Usernames tried at a failed login are cut too: an attacker chooses them.</summary>
    public const int MaxUsernameLength = 150;

    /// <summary>What the log says instead of a username that names no user.</summary>
    public const string UnknownUser = "(no such user)";

    /// <summary>An event of <paramref name="user"/>'s, done by the request's own user or by nobody signed in.</summary>
    public Task RecordAsync(HttpContext context, string kind, User user, string detail = "") =>
        RecordAsync(context, kind, user.Id, user.Username, detail, actor: null);

    /// <summary>An event concerning <paramref name="user"/> that <paramref name="actor"/> (staff) caused.</summary>
    public Task RecordAsync(HttpContext context, string kind, User user, User actor, string detail = "") =>
        RecordAsync(context, kind, user.Id, user.Username, detail, actor.Id == user.Id ? null : actor);

    /// <summary>An event whose user may not exist: a login attempt with a username nobody has (<paramref name="userId"/> null).</summary>
    public async Task RecordAsync(HttpContext context, string kind, long? userId, string username, string detail = "", User? actor = null)
    {
        var userAgent = context.Request.Headers.UserAgent.ToString();
        await AppendAsync(new AuditEvent(0, time.GetUtcNow(), kind, userId, Cut(username, MaxUsernameLength), actor?.Username ?? "",
            ClientAddress(context), Cut(userAgent, MaxUserAgentLength), detail), context.RequestAborted);
    }

    /// <summary>An event caused by an administration command (no request: no address; the command as the user agent).</summary>
    public Task RecordCommandAsync(string command, string kind, User user, string detail, CancellationToken ct) =>
        AppendAsync(new AuditEvent(0, time.GetUtcNow(), kind, user.Id, user.Username, "", "", "postern " + command, detail), ct);

    private async Task AppendAsync(AuditEvent entry, CancellationToken ct)
    {
        await store.AppendAsync(entry, ct);
        // The log names a user only when there is one: the name tried at a failed login for nobody may well be a password
        // typed into the wrong field. The table (staff read it through the API) keeps it, cut, as Django's signal would.
        Recorded(logger, entry.Kind, entry.UserId is null ? UnknownUser : entry.Username, entry.UserId, entry.Actor, entry.Address, entry.Detail);
    }

    /// <summary>The client's address as the throttle sees it (the proxy's report only when trusted), IPv4 written as IPv4.</summary>
    public static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress is { } address
        ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
        : "";

    /// <summary>
    /// At most <paramref name="length"/> characters that any database stores: an attacker's username may hold NUL or a lone
    /// surrogate (valid JSON escapes), which PostgreSQL's text refuses; each becomes U+FFFD rather than lose the event.
    /// </summary>
    internal static string Cut(string text, int length)
    {
        if (text.Length > length)
            text = text[..(char.IsHighSurrogate(text[length - 1]) ? length - 1 : length)];
        if (!text.Contains('\0', StringComparison.Ordinal) && !text.Any(char.IsSurrogate))
            return text;
        var storable = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                storable.Append(c).Append(text[++i]);
            else
                storable.Append(c == '\0' || char.IsSurrogate(c) ? '\uFFFD' : c);
        }
        return storable.ToString();
    }

    [LoggerMessage(100, LogLevel.Information,
        "Audit {Kind}: user {Username} (id {UserId}), actor {Actor}, address {Address}: {Detail}")]
    private static partial void Recorded(ILogger logger, string kind, string username, long? userId, string actor, string address, string detail);
}
