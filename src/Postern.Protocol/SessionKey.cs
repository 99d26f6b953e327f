using System.Security.Cryptography;

namespace Postern.Protocol;

/// <summary>Django's session key format: 32 characters of [a-z0-9] from a CSPRNG.</summary>
public static class SessionKey
{
    public const string AllowedChars = "abcdefghijklmnopqrstuvwxyz0123456789";
    public const int Length = 32;

    public static string New() => RandomNumberGenerator.GetString(AllowedChars, Length);

    /// <summary>Whether a cookie value can be a session key at all; anything else is not worth a lookup.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> value)
    {
        if (value.Length != Length)
            return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
                return false;
        }
        return true;
    }
}
