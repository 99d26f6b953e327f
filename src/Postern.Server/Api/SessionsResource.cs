using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Postern.Server.Storage;

namespace Postern.Server.Api;

/// <summary>
/// <c>/api/sessions/</c>: the signed-in user's own live sessions, each revocable at once. Nobody sees
/// another user's sessions, staff included. A session is named by a one-way digest of its key, so
/// URLs (which end up in logs and histories) never carry a usable key.
/// </summary>
public static class SessionsResource
{
    public static readonly ApiResource List = new()
    {
        Name = "Session List",
        Description = "Your live sessions. DELETE one to end it at once; POST to revoke-others/ to end all but this one.",
        Permission = AccessRule.Authenticated,
        Handlers = new Dictionary<string, Func<ApiCall, Task<ApiResponse>>> { ["GET"] = ListAsync },
    };

    public static readonly ApiResource Detail = new()
    {
        Name = "Session Instance",
        Permission = AccessRule.Authenticated,
        Handlers = new Dictionary<string, Func<ApiCall, Task<ApiResponse>>> { ["GET"] = GetAsync, ["DELETE"] = DeleteAsync },
    };

    public static readonly ApiResource RevokeOthers = new()
    {
        Name = "Revoke Other Sessions",
        Description = "Log out everywhere else: ends every session of yours but this one.",
        Permission = AccessRule.Authenticated,
        Handlers = new Dictionary<string, Func<ApiCall, Task<ApiResponse>>> { ["POST"] = RevokeOthersAsync },
    };

    public static string PublicId(string sessionKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(sessionKey)))[..24];

    private static JsonObject Represent(SessionRecord session, ApiCall call) => new()
    {
        ["url"] = call.Links.Session(PublicId(session.Key)),
        ["created"] = DrfDateTime(session.CreatedAt),
        ["last_seen"] = DrfDateTime(session.LastSeenAt),
        ["expires"] = DrfDateTime(session.ExpiresAt),
        ["user_agent"] = session.UserAgent,
        ["current"] = session.Key == call.Session.Key,
    };

    /// <summary>DRF's DateTimeField output: ISO 8601, microseconds when there are any, UTC as <c>Z</c>.</summary>
    public static string DrfDateTime(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        var format = utc.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
        return utc.ToString(format, CultureInfo.InvariantCulture);
    }

    private static async Task<IReadOnlyList<SessionRecord>> OwnSessionsAsync(ApiCall call) =>
        await call.Service<ISessionStore>().ListLiveSessionsOfUserAsync(call.User.Id, DateTimeOffset.UtcNow, call.Aborted);

    private static async Task<ApiResponse> ListAsync(ApiCall call)
    {
        var sessions = await OwnSessionsAsync(call);
        if (!Pagination.TryPaginate(call.Request, sessions.Count, call.Options, out var page))
            return ApiResponse.NotFound(Pagination.InvalidPage);
        return ApiResponse.Ok(PageBody.Of(page, sessions.Skip(page.Offset).Take(page.Size).Select(s => Represent(s, call))));
    }

    private static async Task<SessionRecord?> FindAsync(ApiCall call)
    {
        var id = call.RouteValue("id");
        return (await OwnSessionsAsync(call)).FirstOrDefault(s => PublicId(s.Key) == id);
    }

    private static async Task<ApiResponse> GetAsync(ApiCall call) =>
        await FindAsync(call) is { } session ? ApiResponse.Ok(Represent(session, call)) : ApiResponse.NotFound("No Session matches the given query.");

    private static async Task<ApiResponse> DeleteAsync(ApiCall call)
    {
        if (await FindAsync(call) is not { } session)
            return ApiResponse.NotFound("No Session matches the given query.");
        await call.Service<ISessionStore>().DeleteSessionAsync(session.Key, call.Aborted);
        return ApiResponse.NoContent();
    }

    private static async Task<ApiResponse> RevokeOthersAsync(ApiCall call)
    {
        var revoked = await call.Service<ISessionStore>().DeleteSessionsOfUserAsync(call.User.Id, call.Session.Key, call.Aborted);
        return ApiResponse.Ok(new JsonObject { ["detail"] = $"Ended {revoked} other session{(revoked == 1 ? "" : "s")}.", ["revoked"] = revoked });
    }
}

/// <summary><c>/api/</c>: DRF's DefaultRouter root, one absolute link per collection.</summary>
public static class ApiRootResource
{
    public static readonly ApiResource Root = new()
    {
        Name = "Api Root",
        Description = "The default basic root view for DefaultRouter",
        Permission = AccessRule.Authenticated,
        Handlers = new Dictionary<string, Func<ApiCall, Task<ApiResponse>>>
        {
            ["GET"] = call => Task.FromResult(ApiResponse.Ok(new JsonObject
            {
                ["users"] = call.Links.UserList,
                ["groups"] = call.Links.GroupList,
                ["sessions"] = call.Links.SessionList,
            })),
        },
    };
}

public static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapApi(this IEndpointRouteBuilder app)
    {
        Map(app, "/api/", "/api/.{format}", ApiRootResource.Root);
        Map(app, "/api/users/", "/api/users.{format}", UsersResource.List);
        Map(app, "/api/users/{id}/", "/api/users/{id}.{format}", UsersResource.Detail);
        Map(app, "/api/groups/", "/api/groups.{format}", GroupsResource.List);
        Map(app, "/api/groups/{id}/", "/api/groups/{id}.{format}", GroupsResource.Detail);
        Map(app, "/api/sessions/", "/api/sessions.{format}", SessionsResource.List);
        app.Map("/api/sessions/revoke-others/", ApiDispatcher.For(SessionsResource.RevokeOthers));
        Map(app, "/api/sessions/{id}/", "/api/sessions/{id}.{format}", SessionsResource.Detail);
        return app;
    }

    /// <summary>A resource at its path and, as DRF's format_suffix_patterns add, with a <c>.json</c> / <c>.api</c> suffix.</summary>
    private static void Map(IEndpointRouteBuilder app, string path, string suffixed, ApiResource resource)
    {
        var handler = ApiDispatcher.For(resource);
        app.Map(path, handler);
        app.Map(suffixed.Replace("{format}", "{format:regex(^[a-z0-9]+$)}", StringComparison.Ordinal), handler);
    }
}
