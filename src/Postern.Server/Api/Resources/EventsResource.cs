using System.Globalization;
using Postern.Protocol;
using Postern.Server.Storage;

namespace Postern.Server.Api.Resources;

/// <summary>
/// <c>/api/events/</c>: the audit trail (Audit/AuditTrail.cs), newest first, read-only. Staff see everyone's events and may
/// filter by user; anyone else sees only their own (an event of another user is "not found"), including the failed logins
/// tried under their name.
/// </summary>
public static class EventsResource
{
    public static readonly UrlField<AuditEvent> Url = new();

    public static readonly ChoiceField<AuditEvent> Kind = new("kind", e => e.Kind)
    {
        ReadOnly = true,
        Choices = [.. AuditEventKinds.All.Select(k => (k.Kind, k.Description))],
        HelpText = "What happened.",
    };

    public static readonly DateTimeField<AuditEvent> Time = new("time", e => e.At) { ReadOnly = true, HelpText = "When it happened." };

    public static readonly HyperlinkField<AuditEvent> User = new("user", e => e.UserId, () => UsersResource.Declaration)
    {
        ReadOnly = true,
        AllowNull = true,
        HelpText = "The user it concerns; null for a login tried under a username nobody has. Kept after the user is deleted.",
    };

    public static readonly StringField<AuditEvent> Username = new("username", e => e.Username)
    {
        ReadOnly = true,
        HelpText = "The user's name at the time, or the username tried at a failed login.",
    };

    public static readonly StringField<AuditEvent> Actor = new("actor", e => e.Actor)
    {
        ReadOnly = true,
        HelpText = "The staff member who did it to this user; empty when the user did it, or nobody was signed in.",
    };

    public static readonly StringField<AuditEvent> Address = new("address", e => e.Address)
    {
        ReadOnly = true,
        HelpText = "The client's address (the proxy's report only when the proxy is trusted).",
    };

    public static readonly StringField<AuditEvent> UserAgent = new("user_agent", e => e.UserAgent)
    {
        ReadOnly = true,
        Label = "User agent",
        HelpText = $"The User-Agent header, cut at {Audit.AuditTrail.MaxUserAgentLength} characters.",
    };

    public static readonly StringField<AuditEvent> Detail = new("detail", e => e.Detail)
    {
        ReadOnly = true,
        HelpText = "More about it, in words: the login path, the reason, what changed.",
    };

    public static readonly IdFilter UserFilter = new("user")
    {
        Description = "Only the events of the user with this id (staff; others only ever see their own).",
    };

    public static readonly ChoiceFilter KindFilter = new("kind", [.. AuditEventKinds.All.Select(k => k.Kind)])
    {
        Description = "Only events of this kind.",
    };

    public static readonly DateTimeFilter Since = new("since") { Description = "Only events at or after this time (ISO 8601; UTC unless said)." };

    public static readonly DateTimeFilter Until = new("until") { Description = "Only events at or before this time (ISO 8601; UTC unless said)." };

    public static readonly Resource<AuditEvent> Declaration = new()
    {
        Name = "Event",
        Path = "events",
        Description = "The audit trail: logins, lockouts, second factors, logouts, ended sessions, password and address changes, "
            + "tokens, and staff changes to accounts, newest first. Staff see everyone's; you see your own. Kept "
            + "Postern:Audit:RetentionDays (90 by default).",
        Fields = [Url, Kind, Time, User, Username, Actor, Address, UserAgent, Detail],
        Filters = [UserFilter, KindFilter, Since, Until],
        Permissions = [ApiPermissions.IsAuthenticated],
        Operations = Operations.ReadOnly,
        Store = new VisibleEvents(),
        IdOf = e => e.Id.ToString(CultureInfo.InvariantCulture),
        DisplayOf = e => $"{e.Kind} {e.Username}",
    };

    /// <summary>The caller's events, or for staff everyone's (DRF's get_queryset filtered by request.user), then the filters.</summary>
    private sealed class VisibleEvents : ResourceStore<AuditEvent>
    {
        private static AuditStore Events(ApiRequest request) => request.Service<AuditStore>();

        private static AuditEventQuery Query(ApiRequest request) => new(
            request.User.IsStaff ? UserFilter.Read(request) : request.User.Id,
            KindFilter.Read(request), Since.Read(request), Until.Read(request));

        /// <summary>A non-staff user filtering by someone else sees nothing, as django-filter on a scoped queryset.</summary>
        private static bool AsksForOthers(ApiRequest request) =>
            !request.User.IsStaff && UserFilter.Read(request) is { } asked && asked != request.User.Id;

        public override async Task<long> CountAsync(ApiRequest request) =>
            AsksForOthers(request) ? 0 : await Events(request).CountAsync(Query(request), request.Aborted);

        public override async Task<IReadOnlyList<AuditEvent>> ListAsync(ApiRequest request, int offset, int limit) =>
            AsksForOthers(request) ? [] : await Events(request).ListAsync(Query(request), offset, limit, request.Aborted);

        public override async Task<AuditEvent?> FindAsync(ApiRequest request, string id)
        {
            var found = await Events(request).FindAsync(long.Parse(id, CultureInfo.InvariantCulture), request.Aborted);
            return found is not null && (request.User.IsStaff || found.UserId == request.User.Id) ? found : null;
        }
    }
}
