using System.Globalization;
using Postern.Protocol;
using Postern.Server.Sessions;
using Postern.Server.Storage;

namespace Postern.Server.Api.Resources;

/// <summary>A token as the API shows it; <see cref="Key"/> only in the answer to the create that made it.</summary>
public sealed record ShownToken(ApiTokenRecord Token, string? Key = null);

/// <summary>
/// <c>/api/tokens/</c>: API tokens for clients that are not browsers (<c>Authorization: Token &lt;key&gt;</c>, DRF's
/// TokenAuthentication). A user names and creates their own, sees the key once, lists and revokes them; staff see and revoke
/// everyone's. Anyone else's token is "not found", never "forbidden", so that ids reveal nothing.
/// </summary>
public static class TokensResource
{
    public const string TokenCannotCreateTokens = "An API token cannot create API tokens: sign in with a session.";

    public static readonly UrlField<ShownToken> Url = new();

    public static readonly StringField<ShownToken> Name = new("name", t => t.Token.Name)
    {
        MaxLength = 100,
        HelpText = "What the token is for, to tell your tokens apart (\"backup script\", \"CI\").",
    };

    public static readonly StringField<ShownToken> Prefix = new("prefix", t => t.Token.Prefix)
    {
        ReadOnly = true,
        HelpText = "The key's first characters, to recognise it by; the rest is never shown again.",
    };

    public static readonly HyperlinkField<ShownToken> User = new("user", t => t.Token.UserId, () => UsersResource.Declaration)
    {
        ReadOnly = true,
        HelpText = "Whose token it is: requests with it act as this user.",
    };

    public static readonly DateTimeField<ShownToken> Created = new("created", t => t.Token.CreatedAt) { ReadOnly = true };

    public static readonly DateTimeField<ShownToken> LastUsed = new("last_used", t => t.Token.LastUsedAt)
    {
        ReadOnly = true,
        AllowNull = true,
        HelpText = "When a request last used it, to the minute; null if none has.",
    };

    public static readonly StringField<ShownToken> Key = new("key", t => t.Key)
    {
        ReadOnly = true,
        ShownOnlyOnCreate = true,
        HelpText = $"The secret, {ApiToken.KeyLength} hex characters, shown in this answer only (only a hash of it is kept): "
            + $"send it as \"Authorization: {ApiToken.Keyword} <key>\".",
    };

    /// <summary>
    /// The one place that decides whether a request may create a token (asked before the body is read, as every permission
    /// is). A token may not: a stolen one would otherwise outlive its revocation through the tokens it made. A session must
    /// also have authenticated recently, checked as the token is made (<see cref="VisibleTokens.CreateAsync"/>).
    /// </summary>
    public static readonly PermissionRule MayCreateTokens = new TokenCreationGuard();

    private sealed class TokenCreationGuard : PermissionRule
    {
        public override string Message => TokenCannotCreateTokens;

        public override bool HasPermission(ApiRequest request) => request.Method != "POST" || !request.ByToken;
    }

    public static readonly Resource<ShownToken> Declaration = new()
    {
        Name = "Token",
        Path = "tokens",
        Description = "Your API tokens, for clients that are not browsers: send \"Authorization: Token <key>\" instead of "
            + "cookies, with no CSRF token. POST a name to create one (the key is in that answer only); DELETE one to revoke "
            + "it. A password change ends them all. Staff see and revoke everyone's.",
        Fields = [Url, Name, Prefix, User, Created, LastUsed, Key],
        Permissions = [ApiPermissions.IsAuthenticated, MayCreateTokens],
        Operations = Operations.List | Operations.Create | Operations.Retrieve | Operations.Destroy,
        Store = new VisibleTokens(),
        IdOf = t => t.Token.Id.ToString(CultureInfo.InvariantCulture),
        DisplayOf = t => t.Token.Name,
    };

    /// <summary>The caller's tokens, or for staff everyone's (DRF's get_queryset filtered by request.user).</summary>
    private sealed class VisibleTokens : ResourceStore<ShownToken>
    {
        private static ApiTokenStore Tokens(ApiRequest request) => request.Service<ApiTokenStore>();

        /// <summary>Whose tokens the request sees: null for all of them.</summary>
        private static long? Owner(ApiRequest request) => request.User.IsStaff ? null : request.User.Id;

        public override Task<long> CountAsync(ApiRequest request) => Tokens(request).CountAsync(Owner(request), request.Aborted);

        public override async Task<IReadOnlyList<ShownToken>> ListAsync(ApiRequest request, int offset, int limit) =>
            [.. (await Tokens(request).ListAsync(Owner(request), offset, limit, request.Aborted)).Select(t => new ShownToken(t))];

        public override async Task<ShownToken?> FindAsync(ApiRequest request, string id)
        {
            if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var tokenId))
                return null;
            var token = await Tokens(request).FindByIdAsync(tokenId, request.Aborted);
            if (token is null)
                return null;
            // Another user's token is "not found", as one that does not exist.
            return Owner(request) is not { } owner || token.UserId == owner ? new ShownToken(token) : null;
        }

        public override async Task<ShownToken> CreateAsync(ApiRequest request, ValidatedData data)
        {
            // Postern:Accounts:ReauthSeconds: a stolen session cookie should not become a credential that outlives the session.
            if (request.Session is not { } session || !Accounts.AccountEndpoint.IsRecent(request.Context, session))
                throw new ApiRefusalException(ApiResponse.ReauthenticationRequired());
            var (token, key) = await request.Service<ApiTokenAuthentication>().CreateAsync(request.User, data.Get(Name)!, request.Aborted);
            await request.Service<Audit.AuditTrail>().RecordAsync(request.Context, Protocol.AuditEventKinds.TokenCreated, request.User,
                $"\"{token.Name}\" ({token.Prefix}…)");
            return new ShownToken(token, key);
        }

        public override async Task DeleteAsync(ApiRequest request, ShownToken current)
        {
            await Tokens(request).DeleteAsync(current.Token.Id, request.Aborted);
            var owner = current.Token.UserId == request.User.Id
                ? request.User
                : await request.Service<IUserStore>().FindUserByIdAsync(current.Token.UserId, request.Aborted);
            if (owner is not null)
                await request.Service<Audit.AuditTrail>().RecordAsync(request.Context, Protocol.AuditEventKinds.TokenRevoked, owner, request.User,
                    $"\"{current.Token.Name}\" ({current.Token.Prefix}…)");
        }
    }
}
