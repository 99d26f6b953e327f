using System.Security.Cryptography;
using System.Text;
using Postern.Protocol;
using Postern.Server.Http;
using Postern.Server.Storage;

namespace Postern.Server.Sessions;

/// <summary>
/// Makes API tokens and checks them (DRF's TokenAuthentication.authenticate_credentials, with Postern's hashed keys and
/// password tie); knows nothing of HTTP beyond the failure it throws.
/// </summary>
public sealed class ApiTokenAuthentication(ApiTokenStore store, SessionAuthHash authHash, TimeProvider time)
{
    /// <summary>last_used_at is written at most this often per token, so token requests stay reads (as sessions' last_seen_at).</summary>
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    /// <summary>How many of the key's characters are kept in the clear, to tell a user's tokens apart; 32 of its 160 bits.</summary>
    public const int PrefixLength = 8;

    /// <summary>What is stored of a key: SHA-256, lowercase hex. A fast hash is enough for 160 random bits.</summary>
    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(key)));

    /// <summary>
    /// The token behind <paramref name="key"/> and its user, in DRF's order of checks: an unknown key is "Invalid token.",
    /// then an inactive user "User inactive or deleted."; a token whose password has changed since (written by another tool,
    /// say) is "Invalid token." too, and deleted on sight.
    /// </summary>
    /// <exception cref="AuthenticationFailedException">The key does not authenticate.</exception>
    public async Task<ApiTokenWithUser> AuthenticateAsync(string key, CancellationToken ct)
    {
        if (!ApiToken.IsWellFormed(key))
            throw Failed(ApiToken.InvalidToken);
        var found = await store.FindByKeyHashAsync(HashOf(key), ct) ?? await FindDjangoTokenAsync(key, ct)
            ?? throw Failed(ApiToken.InvalidToken);
        if (!found.User.IsActive)
            throw Failed(ApiToken.UserInactive);
        if (found.Token.Id == ApiTokenStore.DjangoTokenId)
            return found;
        if (!AuthHashMatches(found))
        {
            await store.DeleteAsync(found.Token.Id, ct);
            throw Failed(ApiToken.InvalidToken);
        }
        var now = time.GetUtcNow();
        if (found.Token.LastUsedAt is not { } used || now - used > TouchInterval)
            await store.TouchAsync(found.Token, now, ct);
        return found;
    }

    /// <summary>
    /// Beside Django, a token of DRF's own, which works here as on Django: tied to no password (DRF's are not), never touched,
    /// listed or ended by Postern (Django's admin or <c>drf_create_token -r</c> does).
    /// </summary>
    private async Task<ApiTokenWithUser?> FindDjangoTokenAsync(string key, CancellationToken ct) =>
        await store.FindDjangoTokenAsync(key, ct) is { } django
            ? new ApiTokenWithUser(new ApiTokenRecord(ApiTokenStore.DjangoTokenId, django.User.Id, "Django REST framework token",
                HashOf(key), key[..PrefixLength], "", django.Created, null), django.User)
            : null;

    public static AuthenticationFailedException Failed(string detail) => new(detail, ApiToken.Keyword);

    /// <summary>As the session manager's: a result the cache hands out again is checked once, not an HMAC per request.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<ApiTokenWithUser, object> _checked = [];

    private bool AuthHashMatches(ApiTokenWithUser found)
    {
        if (_checked.TryGetValue(found, out _))
            return true;
        if (!authHash.Matches(found.Token.AuthHash, found.User.Password))
            return false;
        _checked.TryAdd(found, found);
        return true;
    }

    /// <summary>A new token for <paramref name="user"/>, tied to their present password; the key is in the answer only.</summary>
    /// <exception cref="MissingReferenceException">The user was deleted meanwhile; nothing changed.</exception>
    public async Task<(ApiTokenRecord Token, string Key)> CreateAsync(User user, string name, CancellationToken ct)
    {
        var key = ApiToken.NewKey();
        var token = await store.CreateAsync(
            new ApiTokenRecord(0, user.Id, name, HashOf(key), key[..PrefixLength], authHash.For(user.Password), time.GetUtcNow(), null), ct);
        return (token, key);
    }
}
