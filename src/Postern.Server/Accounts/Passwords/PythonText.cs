using System.Globalization;
using System.Text;

namespace Postern.Server.Accounts;

/// <summary>
/// The few operations of Python's <c>str</c> that Django's password validators apply, done as Python does them: over
/// code points (an emoji is one, as Python's <c>len</c> counts it; a lone surrogate is one too), with Python's full
/// lowercase mapping (İ becomes two code points, Σ ends a word as ς) and Python's own classes of characters
/// (<c>isspace</c> includes U+001C…U+001F; <c>\w</c> excludes combining marks). .NET's own string methods differ on
/// each of these, and every difference would change a validator's verdict.
/// </summary>
internal static class PythonText
{
    public static int[] CodePoints(string text)
    {
        var codePoints = new List<int>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoints.Add(char.ConvertToUtf32(text[i], text[i + 1]));
                i++;
            }
            else
            {
                codePoints.Add(text[i]);
            }
        }
        return [.. codePoints];
    }

    public static string FromCodePoints(IEnumerable<int> codePoints)
    {
        var text = new StringBuilder();
        foreach (var codePoint in codePoints)
        {
            if (IsSurrogate(codePoint))
                text.Append((char)codePoint);
            else
                text.Append(char.ConvertFromUtf32(codePoint));
        }
        return text.ToString();
    }

    /// <summary>Python's <c>len(text)</c>.</summary>
    public static int Length(string text) => CodePoints(text).Length;

    /// <summary>Python's <c>str.lower()</c>: the full lowercase mapping, with the final sigma rule.</summary>
    public static int[] Lower(int[] text)
    {
        var lower = new List<int>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var codePoint = text[i];
            if (codePoint == CapitalSigma)
            {
                lower.Add(IsFinalSigma(text, i) ? FinalSmallSigma : SmallSigma);
            }
            else if (codePoint == CapitalIWithDotAbove)
            {
                // The one unconditional lowercase mapping of SpecialCasing.txt longer than one code point.
                lower.Add('i');
                lower.Add(CombiningDotAbove);
            }
            else
            {
                lower.Add(IsSurrogate(codePoint) ? codePoint : Rune.ToLowerInvariant(new Rune(codePoint)).Value);
            }
        }
        return [.. lower];
    }

    public static string Lower(string text) => FromCodePoints(Lower(CodePoints(text)));

    /// <summary>Python's <c>str.strip()</c> without arguments.</summary>
    public static string Strip(string text)
    {
        var codePoints = CodePoints(text);
        var start = 0;
        var end = codePoints.Length;
        while (start < end && IsSpace(codePoints[start]))
            start++;
        while (end > start && IsSpace(codePoints[end - 1]))
            end--;
        return start == 0 && end == codePoints.Length ? text : FromCodePoints(codePoints[start..end]);
    }

    /// <summary>Python's <c>str.isdigit()</c>: at least one code point, each a decimal or other digit (², ١, １).</summary>
    public static bool IsDigits(string text)
    {
        var codePoints = CodePoints(text);
        return codePoints.Length > 0 && codePoints.All(IsDigit);
    }

    /// <summary><c>re.split(r"\W+", text)</c>: the runs of word characters, with an empty part at either end that is not one.</summary>
    public static List<int[]> SplitOnNonWord(int[] text)
    {
        var parts = new List<int[]>();
        var partStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (IsWordCharacter(text[i]))
            {
                i++;
                continue;
            }
            parts.Add(text[partStart..i]);
            while (i < text.Length && !IsWordCharacter(text[i]))
                i++;
            partStart = i;
        }
        parts.Add(text[partStart..]);
        return parts;
    }

    /// <summary>Python's <c>isspace()</c>: .NET's white space plus the ASCII separators U+001C…U+001F.</summary>
    public static bool IsSpace(int codePoint) =>
        codePoint is >= 0x1C and <= 0x1F || (!IsSurrogate(codePoint) && Rune.IsWhiteSpace(new Rune(codePoint)));

    /// <summary>Python's <c>isdigit()</c> of one code point: it has a digit value (Numeric_Type Decimal or Digit).</summary>
    public static bool IsDigit(int codePoint) =>
        codePoint <= char.MaxValue
            ? CharUnicodeInfo.GetDigitValue((char)codePoint) != -1
            : CharUnicodeInfo.GetDigitValue(char.ConvertFromUtf32(codePoint), 0) != -1;

    /// <summary>What <c>\w</c> matches in a Python <c>str</c> pattern: <c>isalnum()</c> (letters and numbers) or <c>_</c>.</summary>
    public static bool IsWordCharacter(int codePoint) =>
        codePoint == '_' || Category(codePoint) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    /// <summary>Unicode's Cased property: Lowercase, Uppercase or a titlecase letter.</summary>
    public static bool IsCased(int codePoint) =>
        Category(codePoint) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        || InRanges(OtherLowercaseOrUppercase, codePoint);

    /// <summary>
    /// Unicode's Case_Ignorable property: marks, format characters, modifiers, and the apostrophes and dots within words.
    /// </summary>
    public static bool IsCaseIgnorable(int codePoint) =>
        Category(codePoint) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        || WithinWordPunctuation.Contains(codePoint);

    private const int CapitalSigma = 0x3A3;
    private const int SmallSigma = 0x3C3;
    private const int FinalSmallSigma = 0x3C2;
    private const int CapitalIWithDotAbove = 0x130;
    private const int CombiningDotAbove = 0x307;

    /// <summary>
    /// Unicode's Final_Sigma condition, as CPython tests it: a cased letter before (case-ignorable ones skipped), and none
    /// after.
    /// </summary>
    private static bool IsFinalSigma(int[] text, int index)
    {
        var before = index - 1;
        while (before >= 0 && IsCaseIgnorable(text[before]))
            before--;
        if (before < 0 || !IsCased(text[before]))
            return false;
        var after = index + 1;
        while (after < text.Length && IsCaseIgnorable(text[after]))
            after++;
        return after == text.Length || !IsCased(text[after]);
    }

    private static bool IsSurrogate(int codePoint) => codePoint is >= 0xD800 and <= 0xDFFF;

    private static UnicodeCategory Category(int codePoint) =>
        IsSurrogate(codePoint) ? UnicodeCategory.Surrogate : Rune.GetUnicodeCategory(new Rune(codePoint));

    private static bool InRanges((int First, int Last)[] ranges, int codePoint) =>
        ranges.Any(range => codePoint >= range.First && codePoint <= range.Last);

    /// <summary>Word_Break MidLetter, MidNumLet and Single_Quote: the rest of Case_Ignorable.</summary>
    private static readonly HashSet<int> WithinWordPunctuation =
    [
        0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A,
    ];

    /// <summary>
    /// Unicode's Other_Lowercase and Other_Uppercase (PropList.txt, Unicode 14, as Debian 12's Python has it): cased
    /// characters that are not letters of a case category (ª, ʰ, Ⅰ, ⓐ, 🄰).
    /// </summary>
    private static readonly (int First, int Last)[] OtherLowercaseOrUppercase =
    [
        (0xAA, 0xAA), (0xBA, 0xBA), (0x2B0, 0x2B8), (0x2C0, 0x2C1), (0x2E0, 0x2E4), (0x345, 0x345), (0x37A, 0x37A),
        (0x1D2C, 0x1D6A), (0x1D78, 0x1D78), (0x1D9B, 0x1DBF), (0x2071, 0x2071), (0x207F, 0x207F), (0x2090, 0x209C),
        (0x2160, 0x217F), (0x24B6, 0x24E9), (0x2C7C, 0x2C7D), (0xA69C, 0xA69D), (0xA770, 0xA770), (0xA7F8, 0xA7F9),
        (0xAB5C, 0xAB5F), (0x10780, 0x10780), (0x10783, 0x10785), (0x10787, 0x107B0), (0x107B2, 0x107BA),
        (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189),
    ];
}
