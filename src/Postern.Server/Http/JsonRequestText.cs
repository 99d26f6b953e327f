using System.Text;

namespace Postern.Server.Http;

/// <summary>
/// Turns a JSON request body into text the way Python's <c>json.loads(bytes)</c> does, which is what
/// Django views read JSON with: the encoding is guessed from a byte order mark or from where the first
/// zero bytes fall (UTF-8, UTF-16 or UTF-32), a UTF-8 BOM is skipped, and bytes that are not valid in
/// that encoding make the body unreadable rather than being replaced.
/// </summary>
public static class JsonRequestText
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly Encoding Utf16LittleEndian =
        new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true);
    private static readonly Encoding Utf16BigEndian = new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true);
    private static readonly Encoding Utf32LittleEndian =
        new UTF32Encoding(bigEndian: false, byteOrderMark: false, throwOnInvalidCharacters: true);
    private static readonly Encoding Utf32BigEndian =
        new UTF32Encoding(bigEndian: true, byteOrderMark: false, throwOnInvalidCharacters: true);

    /// <summary>The body's text, or null when its bytes are not valid in the encoding Python would pick.</summary>
    public static string? Decode(ReadOnlySpan<byte> body)
    {
        var (encoding, skip) = DetectEncoding(body);
        try
        {
            return encoding.GetString(body[skip..]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Python's <c>json.detect_encoding</c>, with the length of the byte order mark its codec consumes.</summary>
    private static (Encoding Encoding, int Skip) DetectEncoding(ReadOnlySpan<byte> b)
    {
        // UTF-32 first: its little-endian BOM begins with UTF-16's.
        if (b.StartsWith((byte[])[0x00, 0x00, 0xFE, 0xFF]))
            return (Utf32BigEndian, 4);
        if (b.StartsWith((byte[])[0xFF, 0xFE, 0x00, 0x00]))
            return (Utf32LittleEndian, 4);
        if (b.StartsWith((byte[])[0xFE, 0xFF]))
            return (Utf16BigEndian, 2);
        if (b.StartsWith((byte[])[0xFF, 0xFE]))
            return (Utf16LittleEndian, 2);
        if (b.StartsWith((byte[])[0xEF, 0xBB, 0xBF]))
            return (Utf8, 3);
        if (b.Length >= 4)
        {
            if (b[0] == 0)
                return (b[1] != 0 ? Utf16BigEndian : Utf32BigEndian, 0);
            if (b[1] == 0)
                return (b[2] != 0 || b[3] != 0 ? Utf16LittleEndian : Utf32LittleEndian, 0);
        }
        else if (b.Length == 2)
        {
            if (b[0] == 0)
                return (Utf16BigEndian, 0);
            if (b[1] == 0)
                return (Utf16LittleEndian, 0);
        }
        return (Utf8, 0);
    }
}
