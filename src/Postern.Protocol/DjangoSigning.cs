using System.Buffers.Text;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Postern.Protocol;

/// <summary>
/// Django's <c>django.utils.crypto.salted_hmac</c> (SHA-256): an HMAC keyed by SHA-256(key_salt + secret), so that
/// one secret key gives unrelated keys to unrelated uses.
/// </summary>
public static class SaltedHmac
{
    public static byte[] Compute(string keySalt, string value, string secret)
    {
        var key = SHA256.HashData(Encoding.UTF8.GetBytes(keySalt + secret));
        return HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(value));
    }
}

/// <summary>
/// Django's <c>django.core.signing</c> with its <c>TimestampSigner</c>: <c>dumps</c> turns a JSON value into
/// <c>base64(json):base62(unix time):base64(salted HMAC)</c>, <c>loads</c> checks the signature against the secret key
/// and its fallbacks, then the age. A value signed by Django with the same secret key and salt loads here and the
/// other way round (the JSON need not be byte-identical: the signature covers the text as sent).
/// </summary>
public sealed class DjangoSigner(string secretKey, IReadOnlyList<string>? fallbackKeys = null)
{
    private const char Separator = ':';
    private const string Base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>
    /// Signs <paramref name="json"/> (compact JSON text) under <paramref name="salt"/> at <paramref name="now"/>;
    /// with <paramref name="compress"/>, zlib-compressed when that is shorter, marked by a leading dot, as Django does.
    /// </summary>
    public string Dumps(string json, string salt, DateTimeOffset now, bool compress = false)
    {
        // Django's JSONSerializer encodes as Latin-1 after json.dumps escaped everything beyond ASCII.
        var data = Encoding.Latin1.GetBytes(EscapeNonAscii(json));
        var isCompressed = false;
        if (compress)
        {
            var compressed = Zlib(data);
            if (compressed.Length < data.Length - 1)
            {
                data = compressed;
                isCompressed = true;
            }
        }
        var value = (isCompressed ? "." : "") + Base64Url.EncodeToString(data) + Separator + Base62(now.ToUnixTimeSeconds());
        return value + Separator + Signature(value, salt, secretKey);
    }

    /// <summary>
    /// The JSON text of a value signed under <paramref name="salt"/>, or null when the signature matches none of the
    /// keys, the value is malformed, or it was signed more than <paramref name="maxAge"/> before <paramref name="now"/>.
    /// </summary>
    public string? Loads(string signedValue, string salt, DateTimeOffset now, TimeSpan? maxAge = null)
    {
        var lastSeparator = signedValue.LastIndexOf(Separator);
        if (lastSeparator < 0)
            return null;
        var value = signedValue[..lastSeparator];
        var signature = signedValue[(lastSeparator + 1)..];
        if (!MatchesAnyKey(value, signature, salt))
            return null;
        var timestampSeparator = value.LastIndexOf(Separator);
        if (timestampSeparator < 0 || !TryBase62(value[(timestampSeparator + 1)..], out var timestamp))
            return null;
        if (maxAge is { } limit && now.ToUnixTimeSeconds() - timestamp > limit.TotalSeconds)
            return null;
        var encoded = value[..timestampSeparator];
        var isCompressed = encoded.StartsWith('.');
        try
        {
            var data = Base64Url.DecodeFromChars(isCompressed ? encoded[1..] : encoded);
            if (isCompressed)
                data = Unzlib(data);
            return Encoding.Latin1.GetString(data);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            return null;
        }
    }

    private bool MatchesAnyKey(string value, string signature, string salt)
    {
        var given = Encoding.ASCII.GetBytes(signature);
        foreach (var key in (IEnumerable<string>)[secretKey, .. fallbackKeys ?? []])
        {
            if (CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(Signature(value, salt, key))))
                return true;
        }
        return false;
    }

    private static string Signature(string value, string salt, string key) =>
        Base64Url.EncodeToString(SaltedHmac.Compute(salt + "signer", value, key));

    private static string EscapeNonAscii(string json)
    {
        if (Ascii.IsValid(json))
            return json;
        var escaped = new StringBuilder(json.Length + 16);
        foreach (var c in json)
        {
            if (c < 0x80)
                escaped.Append(c);
            else
                escaped.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return escaped.ToString();
    }

    internal static string Base62(long number)
    {
        if (number == 0)
            return "0";
        var sign = number < 0 ? "-" : "";
        var remaining = Math.Abs(number);
        var digits = new StringBuilder();
        while (remaining > 0)
        {
            digits.Insert(0, Base62Alphabet[(int)(remaining % 62)]);
            remaining /= 62;
        }
        return sign + digits;
    }

    internal static bool TryBase62(string text, out long number)
    {
        number = 0;
        var negative = text.StartsWith('-');
        var digits = negative ? text.AsSpan(1) : text.AsSpan();
        if (digits.IsEmpty || digits.Length > 11)
            return false;
        foreach (var c in digits)
        {
            var digit = Base62Alphabet.IndexOf(c, StringComparison.Ordinal);
            if (digit < 0)
                return false;
            number = number * 62 + digit;
        }
        if (negative)
            number = -number;
        return true;
    }

    private static byte[] Zlib(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal))
            zlib.Write(data);
        return output.ToArray();
    }

    private static byte[] Unzlib(byte[] data)
    {
        using var input = new ZLibStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        // Only values whose signature checked get here: Django signs the compressed form, so no zip bomb without the key.
        input.CopyTo(output);
        return output.ToArray();
    }
}
