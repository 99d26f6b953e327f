using System.Text;

namespace Postern.Server.Http;

/// <summary>
/// The text of a JSON body as Python's <c>json.loads(bytes)</c> reads it, which is what the Django peer's
/// login view does: the encoding comes from a byte-order mark or from the pattern of NULs in the first
/// bytes (UTF-8, UTF-16, UTF-32; <c>json.detect_encoding</c>), then the bytes are decoded strictly.
/// </summary>
public static class JsonBodyText
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly Encoding Utf16LittleEndian = new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true);
    private static readonly Encoding Utf16BigEndian = new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true);
    private static readonly Encoding Utf32LittleEndian = new UTF32Encoding(bigEndian: false, byteOrderMark: false, throwOnInvalidCharacters: true);
    private static readonly Encoding Utf32BigEndian = new UTF32Encoding(bigEndian: true, byteOrderMark: false, throwOnInvalidCharacters: true);

    /// <summary>The decoded text, or null if the bytes are not valid in their encoding (json.loads raises ValueError: a malformed body).</summary>
    public static string? Decode(ReadOnlySpan<byte> body)
    {
        var (encoding, byteOrderMarkLength) = Detect(body);
        try
        {
            return encoding.GetString(body[byteOrderMarkLength..]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    // Python's json.detect_encoding, in its order: the UTF-32 marks first, since FF FE 00 00 also starts with UTF-16's.
    private static (Encoding Encoding, int ByteOrderMarkLength) Detect(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]))
            return (Utf32BigEndian, 4);
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]))
            return (Utf32LittleEndian, 4);
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
            return (Utf16BigEndian, 2);
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
            return (Utf16LittleEndian, 2);
        if (b.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
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
