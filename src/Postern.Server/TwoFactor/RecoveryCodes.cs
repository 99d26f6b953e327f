using System.Security.Cryptography;
using System.Text;

namespace Postern.Server.TwoFactor;

/// <summary>
/// Single-use recovery codes: 16 characters of a 32-letter alphabet without look-alikes (80 random bits), shown once as
/// <c>xxxx-xxxx-xxxx-xxxx</c> and stored as SHA-256 hashes. 80 bits make an unsalted fast hash safe: a dump cannot be
/// searched for them.
/// </summary>
public static class RecoveryCodes
{
    public const int Count = 10;
    private const int Length = 16;
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    public static IReadOnlyList<string> New() =>
        [.. Enumerable.Range(0, Count).Select(_ => string.Join('-', RandomNumberGenerator.GetString(Alphabet, Length).Chunk(4).Select(c => new string(c))))];

    /// <summary>The code as typed, without dashes, spaces or case; null when it cannot be a recovery code.</summary>
    public static string? Normalize(string typed)
    {
        var code = typed.Replace("-", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
        return code.Length == Length && code.All(c => Alphabet.Contains(c, StringComparison.Ordinal)) ? code : null;
    }

    public static string Hash(string normalized) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(normalized)));
}
