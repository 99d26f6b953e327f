using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Postern.Protocol;

/// <summary>
/// What Django keeps in <c>django_session.session_data</c> (3.1 and later): the session dictionary as JSON, signed with
/// <c>django.core.signing</c> under the salt <c>django.contrib.sessions.SessionStore</c>, compressed when that is shorter
/// (<c>SessionBase.encode</c>). A signed-in session holds the user's id as a string (<c>_auth_user_id</c>), the dotted path of
/// the backend that authenticated them (<c>_auth_user_backend</c>) and the session auth hash of their password
/// (<c>_auth_user_hash</c>); anything else in it belongs to the site.
/// </summary>
public static class DjangoSessionData
{
    public const string Salt = "django.contrib.sessions.SessionStore";
    public const string UserIdKey = "_auth_user_id";
    public const string BackendKey = "_auth_user_backend";
    public const string HashKey = "_auth_user_hash";

    /// <summary>Django's own backend, the one a login through <c>django.contrib.auth</c> records.</summary>
    public const string ModelBackend = "django.contrib.auth.backends.ModelBackend";

    /// <summary>The backends whose sessions stand for a password login, which Postern can honour.</summary>
    public static readonly IReadOnlyList<string> PasswordBackends =
        [ModelBackend, "allauth.account.auth_backends.AuthenticationBackend"];

    /// <summary>The salt of <c>AbstractBaseUser.get_session_auth_hash</c>.</summary>
    public const string AuthHashSalt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

    /// <summary>The session dictionary of a <c>session_data</c> value, or null when it is not validly signed or not a JSON object.</summary>
    public static JsonObject? Decode(DjangoSigner signer, string sessionData, DateTimeOffset now)
    {
        // Django checks no age here: the row's expire_date decides.
        if (signer.Loads(sessionData, Salt, now) is not { } json)
            return null;
        try
        {
            return JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A <c>session_data</c> value Django loads: <paramref name="session"/> signed and compressed as Django would.</summary>
    public static string Encode(DjangoSigner signer, JsonObject session, DateTimeOffset now) =>
        signer.Dumps(session.ToJsonString(), Salt, now, compress: true);

    /// <summary>The session dictionary of a login: the user, the backend and the auth hash, as <c>django.contrib.auth.login</c> writes them.</summary>
    public static JsonObject ForLogin(long userId, string authHash, string backend = ModelBackend) => new()
    {
        [UserIdKey] = userId.ToString(CultureInfo.InvariantCulture),
        [BackendKey] = backend,
        [HashKey] = authHash,
    };

    /// <summary>The signed-in user of a decoded session: its id, backend and auth hash, or null for an anonymous session.</summary>
    public static (long UserId, string Backend, string AuthHash)? SignedInUser(JsonObject session)
    {
        // Django stores the id as the primary key's string form; an integer is what a hand-made session might hold.
        var id = session[UserIdKey] switch
        {
            JsonValue value when value.TryGetValue(out string? text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
            JsonValue value when value.TryGetValue(out long number) => number,
            _ => (long?)null,
        };
        if (id is null || session[BackendKey] is not JsonValue backend || !backend.TryGetValue(out string? backendPath)
            || session[HashKey] is not JsonValue hash || !hash.TryGetValue(out string? authHash))
            return null;
        return (id.Value, backendPath, authHash);
    }

    /// <summary>
    /// <c>get_session_auth_hash()</c>: the salted HMAC-SHA256 of the encoded password under <paramref name="secretKey"/>, hex.
    /// </summary>
    public static string AuthHash(string encodedPassword, string secretKey) =>
        Convert.ToHexStringLower(SaltedHmac.Compute(AuthHashSalt, encodedPassword, secretKey));

    /// <summary>
    /// Django 3.2's <c>_legacy_get_session_auth_hash()</c>, which its <c>get_user</c> still accepts: the same HMAC with SHA-1
    /// (the key SHA-1 of salt and secret), as sessions made under <c>DEFAULT_HASHING_ALGORITHM = "sha1"</c> hold.
    /// </summary>
    // SHA-1 because that is what Django 3.2's legacy hash is: it is only compared with, never used to protect anything new.
#pragma warning disable CA5350
    public static string LegacyAuthHash(string encodedPassword, string secretKey)
    {
        var key = SHA1.HashData(Encoding.UTF8.GetBytes(AuthHashSalt + secretKey));
        return Convert.ToHexStringLower(HMACSHA1.HashData(key, Encoding.UTF8.GetBytes(encodedPassword)));
    }
#pragma warning restore CA5350

    /// <summary>
    /// Whether <paramref name="authHash"/> is the session auth hash of <paramref name="encodedPassword"/> under any of the
    /// keys, in either form Django accepts: a session is the user's only while the password it was opened with is.
    /// </summary>
    public static bool HashMatches(string authHash, string encodedPassword, IEnumerable<string> secretKeys)
    {
        var given = Encoding.ASCII.GetBytes(authHash);
        foreach (var key in secretKeys)
        {
            if (CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(AuthHash(encodedPassword, key)))
                || CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(LegacyAuthHash(encodedPassword, key))))
                return true;
        }
        return false;
    }
}
