using System.Security.Cryptography;
using System.Text;

namespace Postern.Server.Sessions;

/// <summary>
/// Keys derived from the instance-wide secret (configuration, or generated once into the database),
/// so every instance behind one database computes the same values.
/// </summary>
public sealed class SecretKeyRing
{
    public SecretKeyRing(string secretKey, IReadOnlyList<string>? fallbackKeys = null)
    {
        if (string.IsNullOrEmpty(secretKey))
            throw new ArgumentException("The secret key cannot be empty.", nameof(secretKey));
        // Django's salted_hmac key derivation, SHA256(key_salt + secret), done once: the hash is checked on every request.
        SessionAuthHashKey = SHA256.HashData(Encoding.UTF8.GetBytes(Protocol.DjangoSessionData.AuthHashSalt + secretKey));
        PasswordResetTokens = new Protocol.PasswordResetTokenGenerator(secretKey, fallbackKeys);
        Signer = new Protocol.DjangoSigner(secretKey, fallbackKeys);
        TotpSecrets = new SecretSealer(secretKey, fallbackKeys, "postern.mfa.totp-secret");
    }

    internal byte[] SessionAuthHashKey { get; }

    /// <summary>Django's PasswordResetTokenGenerator under this key (and the fallbacks, for tokens made before a rotation).</summary>
    public Protocol.PasswordResetTokenGenerator PasswordResetTokens { get; }

    /// <summary>django.core.signing under this key and the fallbacks.</summary>
    public Protocol.DjangoSigner Signer { get; }

    /// <summary>Seals users' TOTP secrets for the database.</summary>
    public SecretSealer TotpSecrets { get; }

    public static string NewSecretKey() => RandomNumberGenerator.GetString(Protocol.CsrfToken.AllowedChars, 50);
}

/// <summary>
/// Django's session auth hash: an HMAC of the user's encoded password. A session remembers the value
/// from its login; once the password changes the values differ and the session is dead, so a stolen
/// session cookie stops working the moment the victim changes their password.
/// </summary>
public sealed class SessionAuthHash(SecretKeyRing keys)
{
    public string For(string encodedPassword) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(keys.SessionAuthHashKey, Encoding.UTF8.GetBytes(encodedPassword)));

    public bool Matches(string stored, string encodedPassword)
    {
        var current = For(encodedPassword);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), Encoding.ASCII.GetBytes(current));
    }
}
