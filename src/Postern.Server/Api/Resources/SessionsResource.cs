using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Postern.Server.Storage;

namespace Postern.Server.Api.Resources;

/// <summary>A session of the signed-in user, and whether it is the one the request came with.</summary>
public sealed record OwnSession(SessionRecord Session, bool Current);

/// <summary>
/// <c>/api/sessions/</c>: the signed-in user's own live sessions, each revocable at once. Nobody sees another user's
/// sessions, staff included: the store adapter only ever reads the caller's. A session is named by a one-way digest of its
/// key, so URLs (which end up in logs and histories) never carry a usable key.
/// </summary>
public static class SessionsResource
{
    public static readonly UrlField<OwnSession> Url = new();
    public static readonly DateTimeField<OwnSession> Created = new("created", s => s.Session.CreatedAt) { ReadOnly = true };
    public static readonly DateTimeField<OwnSession> LastSeen = new("last_seen", s => s.Session.LastSeenAt) { ReadOnly = true };
    public static readonly DateTimeField<OwnSession> Expires = new("expires", s => s.Session.ExpiresAt) { ReadOnly = true };

    public static readonly StringField<OwnSession> UserAgent = new("user_agent", s => s.Session.UserAgent)
    {
        ReadOnly = true,
        Label = "User agent",
        AllowNull = true,
    };

    public static readonly BooleanField<OwnSession> Current = new("current", s => s.Current)
    {
        ReadOnly = true,
        HelpText = "Whether this is the session of the request itself.",
    };

    public static readonly ApiAction RevokeOthers = new()
    {
        Name = "Revoke Other Sessions",
        Path = "revoke-others",
        Description = "Log out everywhere else: ends every session of yours but this one. Needs a recent authentication "
            + "(401 reauthentication_required otherwise: POST /auth/reauthenticate).",
        ResultFields =
        [
            new StringField<JsonObject>("detail") { ReadOnly = true, HelpText = "What was done, e.g. \"Ended 2 other sessions.\"" },
            new IntegerField<JsonObject>("revoked") { ReadOnly = true, MinValue = 0, HelpText = "How many sessions were ended." },
        ],
        Handler = async action =>
        {
            var request = action.Request;
            if (request.Session is not { } session)
                return ApiResponse.Forbidden(Accounts.AccountEndpoint.TokenCannotReauthenticate);
            if (!Accounts.AccountEndpoint.IsRecent(request.Context, session))
                return ApiResponse.ReauthenticationRequired();
            var revoked = await request.Service<ISessionStore>()
                .DeleteSessionsOfUserAsync(request.User.Id, session.Key, request.Aborted);
            request.Service<Observability.PosternMetrics>().SessionsEnded(Observability.PosternMetrics.EndReasons.Revoked, revoked);
            await request.Service<Audit.AuditTrail>().RecordAsync(request.Context, Protocol.AuditEventKinds.SessionRevoked, request.User,
                $"Ended {revoked} other session{(revoked == 1 ? "" : "s")}.");
            return ApiResponse.Ok(new JsonObject
            {
                ["detail"] = $"Ended {revoked} other session{(revoked == 1 ? "" : "s")}.",
                ["revoked"] = revoked,
            });
        },
    };

    public static readonly Resource<OwnSession> Declaration = new()
    {
        Name = "Session",
        Path = "sessions",
        Description = "Your live sessions. DELETE one to end it at once; POST to revoke-others/ to end all but this one.",
        Fields = [Url, Created, LastSeen, Expires, UserAgent, Current],
        Permissions = [ApiPermissions.IsAuthenticated],
        Operations = Operations.List | Operations.Retrieve | Operations.Destroy,
        Lookup = Lookup.Text,
        Actions = [RevokeOthers],
        Store = new OwnSessions(),
        IdOf = s => PublicId(s.Session.Key),
    };

    public static string PublicId(string sessionKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(sessionKey)))[..24];

    /// <summary>The caller's sessions only (DRF's get_queryset filtered by request.user); few per user, so paged in memory.</summary>
    private sealed class OwnSessions : ResourceStore<OwnSession>
    {
        private static async Task<IReadOnlyList<OwnSession>> AllAsync(ApiRequest request)
        {
            var sessions = await request.Service<ISessionStore>()
                .ListLiveSessionsOfUserAsync(request.User.Id, request.Time.GetUtcNow(), request.Aborted);
            return [.. sessions.Select(s => new OwnSession(s, s.Key == request.Session?.Key))];
        }

        public override async Task<long> CountAsync(ApiRequest request) => (await AllAsync(request)).Count;

        public override async Task<IReadOnlyList<OwnSession>> ListAsync(ApiRequest request, int offset, int limit) =>
            [.. (await AllAsync(request)).Skip(offset).Take(limit)];

        public override async Task<OwnSession?> FindAsync(ApiRequest request, string id) =>
            (await AllAsync(request)).FirstOrDefault(s => PublicId(s.Session.Key) == id);

        public override async Task DeleteAsync(ApiRequest request, OwnSession current)
        {
            await request.Service<ISessionStore>().DeleteSessionAsync(current.Session.Key, request.Aborted);
            request.Service<Observability.PosternMetrics>().SessionsEnded(Observability.PosternMetrics.EndReasons.Revoked);
            await request.Service<Audit.AuditTrail>().RecordAsync(request.Context, Protocol.AuditEventKinds.SessionRevoked, request.User,
                $"Ended session {PublicId(current.Session.Key)}" + (current.Current ? " (the request's own)." : "."));
        }
    }
}
