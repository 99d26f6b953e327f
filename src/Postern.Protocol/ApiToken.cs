using System.Security.Cryptography;
using System.Text;

namespace Postern.Protocol;

/// <summary>
/// DRF's <c>TokenAuthentication</c> on the wire: <c>Authorization: Token &lt;key&gt;</c>, a key of 40 lowercase hex
/// characters (DRF's <c>binascii.hexlify(os.urandom(20))</c>), and DRF's words for every way the header can be wrong.
/// </summary>
public static class ApiToken
{
    /// <summary>The scheme word, matched ignoring ASCII case as DRF does; also the <c>WWW-Authenticate</c> challenge.</summary>
    public const string Keyword = "Token";

    public const int KeyLength = 40;

    /// <summary>The collection of the signed-in user's tokens.</summary>
    public const string ListPath = "/api/tokens/";

    public const string NoCredentials = "Invalid token header. No credentials provided.";
    public const string ContainsSpaces = "Invalid token header. Token string should not contain spaces.";
    public const string InvalidCharacters = "Invalid token header. Token string should not contain invalid characters.";
    public const string InvalidToken = "Invalid token.";
    public const string UserInactive = "User inactive or deleted.";

    /// <summary>160 bits from a cryptographically secure generator, as 40 lowercase hex characters.</summary>
    public static string NewKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(KeyLength / 2));

    /// <summary>The <c>Authorization</c> header's value for <paramref name="key"/>.</summary>
    public static string HeaderValue(string key) => Keyword + " " + key;

    /// <summary>Whether a key could have been made by <see cref="NewKey"/>; anything else is not worth a lookup.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> key)
    {
        if (key.Length != KeyLength)
            return false;
        foreach (var c in key)
        {
            if (!(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
                return false;
        }
        return true;
    }

    /// <summary>What an <c>Authorization</c> header says to token authentication.</summary>
    /// <param name="IsToken">Whether the header names the Token scheme at all; other schemes (Basic, Bearer) are not ours.</param>
    /// <param name="Key">The key it carries, when it is well-shaped.</param>
    /// <param name="Failure">DRF's detail for a Token header that cannot carry a key.</param>
    public readonly record struct Credentials(bool IsToken, string? Key, string? Failure);

    /// <summary>
    /// DRF's <c>TokenAuthentication.authenticate</c> up to the lookup: the header (decoded as ISO-8859-1, as WSGI gives it)
    /// split on whitespace; no header or another first word is not a token request; the word alone, or more than two words,
    /// fails; a second word that is not UTF-8 fails.
    /// </summary>
    public static Credentials Read(string? authorization)
    {
        if (string.IsNullOrEmpty(authorization))
            return default;
        var words = authorization.Split(PythonWhitespace, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || !words[0].Equals(Keyword, StringComparison.OrdinalIgnoreCase) || !IsAscii(words[0]))
            return default;
        if (words.Length == 1)
            return new(true, null, NoCredentials);
        if (words.Length > 2)
            return new(true, null, ContainsSpaces);
        var key = words[1];
        if (!IsAscii(key))
        {
            // Header bytes beyond ASCII reach us as ISO-8859-1 characters; DRF decodes the same bytes as UTF-8.
            var bytes = Encoding.Latin1.GetBytes(key);
            try
            {
                key = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                return new(true, null, InvalidCharacters);
            }
        }
        return new(true, key, null);
    }

    /// <summary>What Python's <c>bytes.split()</c> splits on.</summary>
    private static readonly char[] PythonWhitespace = [' ', '\t', '\n', '\r', '\v', '\f'];

    // OrdinalIgnoreCase folds non-ASCII letters too (the Kelvin sign is a K); Python's bytes.lower() folds only ASCII.
    private static bool IsAscii(string text) => System.Text.Ascii.IsValid(text);
}
