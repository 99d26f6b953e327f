using System.Text.Json;
using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Http;
using Postern.Server.Sessions;
using Postern.Server.Storage;

namespace Postern.Server.TwoFactor;

/// <summary>
/// A login whose password was right, waiting for the second factor: a signed, short-lived cookie (<see
/// cref="CookieNames.MfaPending"/>) naming the user and the password it was given for, not a session, so nobody is signed in
/// by it and nothing is stored for it. It stops working when the user's password changes or the user is deactivated,
/// and after <see cref="TwoFactorOptions.LoginTimeoutSeconds"/>; every wrong code given with it counts toward the
/// account's lockout.
/// </summary>
public sealed class PendingMfaLogins(
    SecretKeyRing keys, SessionAuthHash authHash, IUserStore users, IOptions<ServerSessionOptions> sessions,
    IOptions<TwoFactorOptions> options, TimeProvider time)
{
    private const string Salt = "postern.mfa.pending-login";

    private CookieAttributes Attributes => new(
        sessions.Value.CookieDomain, sessions.Value.CookiePath, HttpOnly: true, sessions.Value.CookieSecure, sessions.Value.CookieSameSite,
        sessions.Value.CookiePartitioned);

    public void Begin(HttpContext context, User user)
    {
        var now = time.GetUtcNow();
        var value = keys.Signer.Dumps(
            JsonSerializer.Serialize(new Dictionary<string, object> { ["u"] = user.Id, ["h"] = authHash.For(user.Password) }), Salt, now);
        context.Response.Headers.Append("Set-Cookie",
            SetCookieHeader.Set(CookieNames.MfaPending, value, options.Value.LoginTimeoutSeconds, Attributes, now));
    }

    /// <summary>The user whose login waits for a code, or null (no cookie, expired, tampered with, or the user changed since).</summary>
    public async Task<User?> FindAsync(HttpContext context)
    {
        if (RequestCookies.Find(context.Request, CookieNames.MfaPending) is not { } cookie)
            return null;
        var json = keys.Signer.Loads(cookie, Salt, time.GetUtcNow(), TimeSpan.FromSeconds(options.Value.LoginTimeoutSeconds));
        if (json is null)
            return null;
        long id;
        string? hash;
        try
        {
            using var document = JsonDocument.Parse(json);
            id = document.RootElement.GetProperty("u").GetInt64();
            hash = document.RootElement.GetProperty("h").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
        var user = await users.FindUserByIdUncachedAsync(id, context.RequestAborted);
        return user is { IsActive: true } && hash is not null && authHash.Matches(hash, user.Password) ? user : null;
    }

    public void End(HttpContext context)
    {
        if (RequestCookies.Find(context.Request, CookieNames.MfaPending) is not null)
            context.Response.Headers.Append("Set-Cookie", SetCookieHeader.Delete(CookieNames.MfaPending, Attributes));
    }
}
