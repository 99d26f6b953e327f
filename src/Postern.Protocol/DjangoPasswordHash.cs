using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Postern.Protocol;

/// <summary>
/// Django's encoded password format, <c>pbkdf2_sha256$&lt;iterations&gt;$&lt;salt&gt;$&lt;base64 hash&gt;</c>
/// (django/contrib/auth/hashers.py), so that hashes move between Django and Postern in both directions.
/// <c>pbkdf2_sha1</c> hashes verify too; unusable passwords start with <c>!</c>.
/// </summary>
public sealed record DjangoPasswordHash(string Algorithm, int Iterations, string Salt, byte[] Hash)
{
    public const string Pbkdf2Sha256 = "pbkdf2_sha256";
    public const string Pbkdf2Sha1 = "pbkdf2_sha1";

    /// <summary>Django 5.2's iteration count for new hashes.</summary>
    public const int Django52Iterations = 1_000_000;

    /// <summary>Django's salt: 22 chars of [a-zA-Z0-9], i.e. at least 128 bits of entropy.</summary>
    public const int SaltLength = 22;

    public const string UnusablePrefix = "!";
    private const int UnusableSuffixLength = 40;

    /// <summary>Refused outright: hashing megabytes of password a million times is a denial of service.</summary>
    public const int MaxPasswordLength = 4096;

    private const int MaxIterations = 100_000_000;

    public static string NewSalt() => RandomNumberGenerator.GetString(CsrfToken.AllowedChars, SaltLength);

    /// <summary>An encoded value that no password matches (Django's <c>set_unusable_password</c>).</summary>
    public static string NewUnusable() => UnusablePrefix + RandomNumberGenerator.GetString(CsrfToken.AllowedChars, UnusableSuffixLength);

    public static bool IsUsable([NotNullWhen(true)] string? encoded) =>
        !string.IsNullOrEmpty(encoded) && !encoded.StartsWith(UnusablePrefix, StringComparison.Ordinal);

    /// <summary>Hashes <paramref name="password"/> into Django's encoded form with PBKDF2-HMAC-SHA256.</summary>
    public static string Encode(string password, int iterations, string? salt = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        salt ??= NewSalt();
        if (salt.Contains('$', StringComparison.Ordinal))
            throw new ArgumentException("A salt cannot contain '$'.", nameof(salt));
        var hash = Derive(Pbkdf2Sha256, password, salt, iterations);
        return new DjangoPasswordHash(Pbkdf2Sha256, iterations, salt, hash).ToString();
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Algorithm}${Iterations}${Salt}${Convert.ToBase64String(Hash)}");

    /// <summary>Reads an encoded value; false for unusable, unknown-algorithm or malformed values.</summary>
    public static bool TryParse(string? encoded, [NotNullWhen(true)] out DjangoPasswordHash? parsed)
    {
        parsed = null;
        if (!IsUsable(encoded))
            return false;
        var parts = encoded.Split('$', 4);
        if (parts.Length != 4 || parts[0] is not (Pbkdf2Sha256 or Pbkdf2Sha1))
            return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations < 1 || iterations > MaxIterations)
            return false;
        byte[] hash;
        try
        {
            hash = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }
        if (hash.Length != (parts[0] == Pbkdf2Sha256 ? 32 : 20))
            return false;
        parsed = new DjangoPasswordHash(parts[0], iterations, parts[2], hash);
        return true;
    }

    /// <summary>Whether <paramref name="password"/> produces this hash (constant-time comparison).</summary>
    public bool Verify(string password)
    {
        var candidate = Derive(Algorithm, password, Salt, Iterations);
        return CryptographicOperations.FixedTimeEquals(candidate, Hash);
    }

    /// <summary>Django's <c>must_update</c>: re-hash at the next successful login.</summary>
    public bool NeedsUpgrade(int currentIterations) =>
        Algorithm != Pbkdf2Sha256 || Iterations != currentIterations || Salt.Length < SaltLength;

    private static byte[] Derive(string algorithm, string password, string salt, int iterations)
    {
        var name = algorithm == Pbkdf2Sha1 ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;
        var length = algorithm == Pbkdf2Sha1 ? 20 : 32;
        return Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(salt), iterations, name, length);
    }
}
