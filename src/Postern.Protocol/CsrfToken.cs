using System.Security.Cryptography;

namespace Postern.Protocol;

/// <summary>Why a CSRF token or cookie value is not of the protocol's format.</summary>
public enum CsrfTokenFormatError
{
    None,
    IncorrectLength,
    InvalidCharacters,
}

/// <summary>
/// Django's CSRF token format (django/middleware/csrf.py, Django &gt;= 4.1): a 32-char secret over
/// [a-zA-Z0-9], and 64-char masked tokens (a fresh random mask + the secret shifted by it) so that
/// the token in a page changes on every render (BREACH mitigation) while its secret does not.
/// </summary>
public static class CsrfToken
{
    /// <summary>The alphabet, in Django's order: the index of a character is its value in the masking arithmetic.</summary>
    public const string AllowedChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    public const int SecretLength = 32;
    public const int MaskedLength = 2 * SecretLength;

    /// <summary>A new secret: 32 characters drawn uniformly from the alphabet.</summary>
    public static string NewSecret() => RandomNumberGenerator.GetString(AllowedChars, SecretLength);

    /// <summary>A freshly masked 64-char token carrying <paramref name="secret"/>.</summary>
    public static string Mask(string secret)
    {
        if (secret.Length != SecretLength || CheckFormat(secret) != CsrfTokenFormatError.None)
            throw new ArgumentException("A CSRF secret is 32 characters of [a-zA-Z0-9].", nameof(secret));
        var mask = NewSecret();
        return MaskWith(secret, mask);
    }

    /// <summary>Masks <paramref name="secret"/> with a given mask (deterministic; for tests and vectors).</summary>
    public static string MaskWith(string secret, string mask)
    {
        return string.Create(MaskedLength, (secret, mask), static (span, state) =>
        {
            var (secret, mask) = state;
            for (var i = 0; i < SecretLength; i++)
            {
                span[i] = mask[i];
                span[SecretLength + i] = AllowedChars[(IndexOf(secret[i]) + IndexOf(mask[i])) % AllowedChars.Length];
            }
        });
    }

    /// <summary>The secret inside a 64-char masked token (the token must already have passed <see cref="CheckFormat"/>).</summary>
    public static string Unmask(ReadOnlySpan<char> token)
    {
        Span<char> secret = stackalloc char[SecretLength];
        UnmaskInto(token, secret);
        return new string(secret);
    }

    private static void UnmaskInto(ReadOnlySpan<char> token, Span<char> secret)
    {
        var mask = token[..SecretLength];
        var cipher = token[SecretLength..];
        for (var i = 0; i < SecretLength; i++)
        {
            var x = IndexOf(cipher[i]) - IndexOf(mask[i]);
            secret[i] = AllowedChars[x < 0 ? x + AllowedChars.Length : x];
        }
    }

    /// <summary>Django's <c>_check_token_format</c>: length first (32 or 64), then the alphabet.</summary>
    public static CsrfTokenFormatError CheckFormat(ReadOnlySpan<char> token)
    {
        if (token.Length is not (SecretLength or MaskedLength))
            return CsrfTokenFormatError.IncorrectLength;
        foreach (var c in token)
        {
            if (!char.IsAsciiLetterOrDigit(c))
                return CsrfTokenFormatError.InvalidCharacters;
        }
        return CsrfTokenFormatError.None;
    }

    /// <summary>
    /// The secret a well-formed cookie value carries: a 32-char value is the secret itself; a 64-char
    /// value is a masked token as Django &lt; 4.1 stored it in the cookie.
    /// </summary>
    public static string SecretFromCookieValue(string wellFormedValue) =>
        wellFormedValue.Length == MaskedLength ? Unmask(wellFormedValue) : wellFormedValue;

    /// <summary>
    /// Django's <c>_does_token_match</c>: unmask a 64-char token, then compare with the secret in
    /// constant time, so that timing does not reveal how much of a guessed token was right.
    /// </summary>
    public static bool Matches(ReadOnlySpan<char> wellFormedToken, ReadOnlySpan<char> secret)
    {
        if (secret.Length != SecretLength)
            return false;
        Span<char> candidate = stackalloc char[SecretLength];
        if (wellFormedToken.Length == MaskedLength)
            UnmaskInto(wellFormedToken, candidate);
        else if (wellFormedToken.Length == SecretLength)
            wellFormedToken.CopyTo(candidate);
        else
            return false;
        return CryptographicOperations.FixedTimeEquals(
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(candidate),
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(secret));
    }

    private static int IndexOf(char c) => c switch
    {
        >= 'a' and <= 'z' => c - 'a',
        >= 'A' and <= 'Z' => c - 'A' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        _ => throw new ArgumentException($"'{c}' is not a CSRF token character."),
    };
}
