using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Postern.Protocol;

/// <summary>What a password reset token is computed over: the state that a reset or a login changes.</summary>
/// <param name="Password">The encoded password hash: any new password, even the same one re-salted, spends the token.</param>
/// <param name="LastLogin">A login after the token was made spends it too.</param>
public sealed record PasswordResetTokenSubject(long UserId, string Password, DateTimeOffset? LastLogin, string Email);

/// <summary>
/// Django's <c>PasswordResetTokenGenerator</c>: <c>&lt;seconds since 2001-01-01 in base 36&gt;-&lt;every other hex digit
/// of HMAC-SHA256(id, password hash, last login, timestamp, e-mail)&gt;</c>, keyed by the secret key. Tokens made by
/// Django with the same secret key check here and the other way round. Django counts the seconds in its TIME_ZONE's
/// local time; Postern in UTC, as a project made by startproject does (TIME_ZONE = "UTC").
/// </summary>
public sealed class PasswordResetTokenGenerator(string secretKey, IReadOnlyList<string>? fallbackKeys = null)
{
    private const string KeySalt = "django.contrib.auth.tokens.PasswordResetTokenGenerator";
    private static readonly DateTime Epoch = new(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Django's PASSWORD_RESET_TIMEOUT default: three days.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromDays(3);

    public string Make(PasswordResetTokenSubject user, DateTimeOffset now) => Make(user, Seconds(now), secretKey);

    /// <summary>Whether <paramref name="token"/> was made for <paramref name="user"/> in its present state, within <paramref name="timeout"/>.</summary>
    public bool Check(PasswordResetTokenSubject user, string? token, DateTimeOffset now, TimeSpan timeout)
    {
        if (string.IsNullOrEmpty(token))
            return false;
        var parts = token.Split('-');
        if (parts.Length != 2 || !TryBase36(parts[0], out var timestamp))
            return false;
        var given = Encoding.ASCII.GetBytes(token);
        var matches = false;
        foreach (var key in (IEnumerable<string>)[secretKey, .. fallbackKeys ?? []])
            matches |= CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(Make(user, timestamp, key)));
        return matches && Seconds(now) - timestamp <= (long)timeout.TotalSeconds;
    }

    private static string Make(PasswordResetTokenSubject user, long timestamp, string key)
    {
        // Django truncates the last login to whole seconds and prints it as Python's str(datetime) of naive UTC.
        var lastLogin = user.LastLogin is { } at
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : "";
        var value = string.Create(CultureInfo.InvariantCulture, $"{user.UserId}{user.Password}{lastLogin}{timestamp}{user.Email}");
        var hex = Convert.ToHexStringLower(SaltedHmac.Compute(KeySalt, value, key));
        var everyOther = new StringBuilder(hex.Length / 2);
        for (var i = 0; i < hex.Length; i += 2)
            everyOther.Append(hex[i]);
        return Base36(timestamp) + "-" + everyOther;
    }

    private static long Seconds(DateTimeOffset at) => (long)(at.UtcDateTime - Epoch).TotalSeconds;

    private static string Base36(long number)
    {
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        if (number < 36)
            return digits[(int)number].ToString();
        var text = new StringBuilder();
        while (number > 0)
        {
            text.Insert(0, digits[(int)(number % 36)]);
            number /= 36;
        }
        return text.ToString();
    }

    /// <summary>
    /// Django's base36_to_int refuses more than 13 digits; a token only matches in the form <see cref="Base36"/> writes,
    /// so lowercase digits are all that can succeed.
    /// </summary>
    private static bool TryBase36(string text, out long number)
    {
        number = 0;
        if (text.Length is 0 or > 12)
            return false;
        foreach (var c in text)
        {
            var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetterLower(c) ? c - 'a' + 10 : -1;
            if (digit < 0)
                return false;
            number = number * 36 + digit;
        }
        return true;
    }
}

/// <summary>
/// The <c>uid</c> of a reset link: Django's <c>urlsafe_base64_encode</c> of the user's id in decimal, without padding.
/// </summary>
public static class ResetUid
{
    public static string Encode(long userId) =>
        System.Buffers.Text.Base64Url.EncodeToString(Encoding.ASCII.GetBytes(userId.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The user id a uid names, or null when it is not the encoding of a positive id.</summary>
    public static long? Decode(string? uid)
    {
        if (string.IsNullOrEmpty(uid) || uid.Length > 64)
            return null;
        try
        {
            // Python's urlsafe_b64decode is lenient: it drops characters outside the alphabet ("M.Q" is "MQ").
            var kept = new string([.. uid.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '+' or '/')
                .Select(c => c switch { '+' => '-', '/' => '_', _ => c })]);
            var text = Encoding.ASCII.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(kept));
            // Django reads the decoded text with int(): surrounding whitespace and a plus sign are fine there too.
            return long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id) && id > 0
                ? id
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
