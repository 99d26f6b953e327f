using System.IO.Compression;
using System.Text;
using Postern.Server.Accounts;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>A password and the user it is for, as Django's validators see them.</summary>
public sealed record PasswordCase(string Password, string Username, string Email = "", string FirstName = "", string LastName = "")
{
    public override string ToString() =>
        $"password {Escaped(Password)}, username {Escaped(Username)}, email {Escaped(Email)}, "
        + $"first {Escaped(FirstName)}, last {Escaped(LastName)}";

    private static string Escaped(string text) =>
        text.Length > 60 ? PasswordCorpus.JsonString(text[..60]) + "…" : PasswordCorpus.JsonString(text);
}

/// <summary>
/// Passwords and users that reach every branch of Django's validators: each attribute copied, mangled and split on
/// its separators; ratios on either side of 0.7 and exactly at it; the length-ratio shortcut's edge; strings past
/// 200 characters; Python's text rules (code points, full lowercasing, final sigma, its white space and digits);
/// common passwords in other cases and padded; digits of other scripts; short and empty passwords and attributes.
/// Built the same way every run (a seeded generator), so a difference found is found again.
/// </summary>
public static class PasswordCorpus
{
    public static IReadOnlyList<PasswordCase> Build()
    {
        var cases = new List<PasswordCase>();
        cases.AddRange(Chosen());
        cases.AddRange(AroundTheMaximumSimilarity());
        cases.AddRange(LengthRatioEdges());
        cases.AddRange(Generated(new Random(13), 320));
        return cases;
    }

    /// <summary>Python's white space, which <c>strip()</c> removes around a common password (U+001C…U+001F included).</summary>
    private static readonly string[] PythonSpaces =
        [" ", "\t", "\n", "\r", "\v", "\f", "\x1c", "\x1f", "\u00a0", "\u0085", "\u2028", "\u3000"];

    private static IEnumerable<PasswordCase> Chosen()
    {
        // Length, counted in code points.
        yield return new("", "alice", "alice@example.org");
        yield return new("a", "alice");
        yield return new("abcdefg", "alice");
        yield return new("abcdefgh", "zed");
        yield return new(string.Concat(Enumerable.Repeat("😀", 7)), "alice");
        yield return new(string.Concat(Enumerable.Repeat("😀", 8)), "alice");
        yield return new("e\u0301e\u0301e\u0301e\u0301", "alice");
        yield return new("\ud800abcdefg", "alice");
        yield return new("\udc00\ud800xyzxyzq", "\udc00x");

        // Entirely numeric, in Python's sense.
        foreach (var digits in new[]
            {
                "12345678", "00000000", "1234 5678", "٣٣٣٣٣٣٣٣٣", "１２３４５６７８９", "²²²²²²²²", "½½½½½½½½½", "𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "٠١٢", "9",
                "1234567.8", "-12345678", "Ⅻ12345678",
            })
        {
            yield return new(digits, "numbers");
        }

        // Common passwords, in other cases and padded with Python's white space.
        foreach (var common in new[] { "password", "PASSWORD", "PassWord", "ПАРОЛЬ", "пароль", "Qwerty", "iloveyou", "123456", "letmein" })
        {
            yield return new(common, "someone");
            var before = PythonSpaces[common.Length % PythonSpaces.Length];
            var after = PythonSpaces[(common.Length + 5) % PythonSpaces.Length];
            yield return new(before + common + after, "someone");
        }
        yield return new("pass word", "someone");
        yield return new("\u200bpassword", "someone");

        // Each attribute, whole and in parts.
        yield return new("alice", "alice");
        yield return new("ALICE2024", "alice");
        yield return new("ecila", "alice");
        yield return new("johnsmith", "jsmith", "john.smith@example.com");
        yield return new("examplecom", "jsmith", "john.smith@example.com");
        yield return new("smith2024!", "jsmith", "john.smith@example.com");
        yield return new("example!!", "x", "john.smith@example.com");
        yield return new("bartholomew1", "bart", "b@example.org", "Bartholomew", "Featherstonehaugh");
        yield return new("featherstonehaugh", "bart", "b@example.org", "Bartholomew", "Featherstonehaugh");
        yield return new("Bart0lomew", "bart", "b@example.org", "Bartholomew", "Featherstonehaugh");
        yield return new("haughfeather", "bart", "", "", "Featherstone-Haugh");
        yield return new("mary-jane", "mj", "", "Mary Jane");
        yield return new("correct horse battery", "horse", "", "Correct", "Battery");

        // Empty parts of an attribute: an empty password is "too similar" to the empty part before a leading dot.
        yield return new("", ".a");
        yield return new("", "a.");
        yield return new("", "a");
        yield return new("a", ".");
        yield return new("", "", "@");

        // Python's lowercasing: İ is two code points, Σ is final or not, ß stays, ﬁ stays.
        yield return new("i\u0307lker123", "İlker");
        yield return new("ilker123", "İlker");
        yield return new("İLKERİLKER", "ilker");
        yield return new("οδυσσευς", "ΟΔΥΣΣΕΥΣ");
        yield return new("οδυσσευσ", "ΟΔΥΣΣΕΥΣ");
        yield return new("ΟΔΥΣΣΕΥΣ1", "οδυσσευς");
        yield return new("ΣΑΣ.ΣΑΣ'Σ", "σας");
        yield return new("ΣΑΣ.ΣΑΣ'Σ", "σασ");
        yield return new("AΣ\u0308", "aς");
        yield return new("ʰΣʰ", "ʰς");
        yield return new("ⅠΣⅡ", "ⅰςⅱ");
        yield return new("ΑΣ\u00ad", "ας");
        yield return new("straße", "STRASSE");
        yield return new("ﬁnﬁnﬁn", "FINFINFIN");
        yield return new("ǅǆǅǆ", "ǄǄǄǄ");

        // Python's \w: combining marks and other non-letters split an attribute, letters of every script do not.
        yield return new("elise", "e\u0301lise");
        yield return new("lise-lise", "e\u0301lise");
        yield return new("жжжжжжжжж", "жж_жж");
        yield return new("zhang2024", "张伟", "zhang@example.cn", "伟", "张");
        yield return new("张伟张伟张伟", "张伟");
        yield return new("ⅫⅫⅫⅫ", "Ⅻ");
        yield return new("abc\u00b7def", "abc·def");
        yield return new("user name", "user\u3000name");
        // Split or not, the verdict differs: a combining mark and connector punctuation split (unlike .NET's \w),
        // a superscript digit and a Roman numeral do not.
        foreach (var between in new[] { "\u0301", "\u203f", "\u2040", "²", "Ⅻ", "_" })
            yield return new("ijklmnop", $"abcdefgh{between}ijklmnop");
    }

    /// <summary>
    /// A ten-letter attribute and passwords sharing 0…10 of its letters with 7…14 letters in all, so quick_ratio
    /// (2 × shared / total length) passes 0.7 on both sides and lands on it exactly (7 of 10 shared, 10 long).
    /// </summary>
    private static IEnumerable<PasswordCase> AroundTheMaximumSimilarity()
    {
        const string attribute = "abcdefghij";
        const string others = "qrstuvwxyzqrstuvwxyz";
        for (var shared = 4; shared <= 10; shared++)
        {
            for (var length = Math.Max(shared, 7); length <= 14; length++)
            {
                var password = attribute[..shared] + others[..(length - shared)];
                yield return new(password, attribute);
                yield return new(password.ToUpperInvariant(), "u", $"{attribute}@{attribute[..3]}.org");
            }
        }
    }

    /// <summary>Passwords ten times as long as an attribute part or nearly so, on either side of Django's shortcut.</summary>
    public static IEnumerable<PasswordCase> LengthRatioEdges()
    {
        foreach (var part in new[] { "a", "ab", "abc", "abcd" })
        {
            foreach (var factor in new[] { 9, 10, 11 })
            {
                foreach (var extra in new[] { -1, 0, 1 })
                {
                    var length = (part.Length * factor) + extra;
                    var password = string.Concat(Enumerable.Repeat(part, (length / part.Length) + 1))[..length];
                    yield return new(password, part, "", part, part);
                    yield return new(password[..(length / 2)] + new string('z', length - (length / 2)), $"x.{part}", "", "", part);
                }
            }
        }
    }

    private static readonly string[] Letters =
    [
        "a", "b", "c", "d", "e", "i", "l", "m", "n", "o", "r", "s", "t", "x", "A", "E", "S", "Z", "0", "1", "2", "7", "9",
    ];

    private static readonly string[] Others =
    [
        ".", "-", "_", "@", "+", " ", "!", "#", "'", "é", "É", "ß", "İ", "ı", "Σ", "σ", "ς", "Ω", "ж", "Ж", "ﬁ", "½", "²", "٣", "１",
        "😀", "e\u0301", "\u00a0", "\u3000", "\x1c", "张", "ǅ", "ʰ", "Ⅻ",
    ];

    private static IEnumerable<PasswordCase> Generated(Random random, int count)
    {
        var common = CommonPasswords();
        for (var i = 0; i < count; i++)
        {
            var username = Text(random, random.Next(1, 16), 0.15);
            var email = random.Next(5) == 0 ? "" : $"{Text(random, random.Next(1, 10), 0.1)}.{Text(random, random.Next(0, 8), 0)}@"
                + $"{Text(random, random.Next(1, 9), 0)}.{Text(random, random.Next(2, 4), 0)}";
            var first = random.Next(3) == 0 ? "" : Text(random, random.Next(1, 12), 0.1);
            var last = random.Next(3) == 0 ? "" : Text(random, random.Next(1, 14), 0.15);
            var password = (i % 8) switch
            {
                0 => Mangled(random, username),
                1 => Mangled(random, email.Length > 0 ? email.Split('@', '.')[random.Next(3)] : username),
                2 => Mangled(random, first.Length > 0 ? first : username),
                3 => Mangled(random, last.Length > 0 ? last : username),
                4 => Text(random, random.Next(0, 30), 0.3),
                5 => Padded(random, RandomCase(random, common[random.Next(common.Count)])),
                6 => Digits(random),
                _ => Long(random, username, email, first, last),
            };
            if (i % 8 == 7)
            {
                // Attributes as long as Django allows (150; e-mail 254) and beyond, with repeats to make autojunk-sized text.
                username = Repeat(username, random.Next(150, 260));
                if (random.Next(2) == 0)
                    first = Repeat(first.Length > 0 ? first : "first", random.Next(200, 300));
            }
            yield return new(password, username, email, first, last);
        }
    }

    private static string Text(Random random, int length, double othersShare)
    {
        var text = new StringBuilder();
        for (var i = 0; i < length; i++)
            text.Append(random.NextDouble() < othersShare ? Others[random.Next(Others.Length)] : Letters[random.Next(Letters.Length)]);
        return text.ToString();
    }

    /// <summary>An attribute with a few changes: letters replaced, added or dropped, case changed, reversed, digits added.</summary>
    private static string Mangled(Random random, string value)
    {
        var codePoints = PythonText.CodePoints(value).ToList();
        for (var changes = random.Next(0, 4); changes > 0 && codePoints.Count > 0; changes--)
        {
            var at = random.Next(codePoints.Count);
            var replacement = PythonText.CodePoints(Text(random, 1, 0.2));
            switch (random.Next(3))
            {
                case 0:
                    codePoints[at] = replacement[0];
                    break;
                case 1:
                    codePoints.InsertRange(at, replacement);
                    break;
                default:
                    codePoints.RemoveAt(at);
                    break;
            }
        }
        var mangled = PythonText.FromCodePoints(codePoints);
        return random.Next(6) switch
        {
            0 => mangled.ToUpperInvariant(),
            1 => string.Concat(PythonText.CodePoints(mangled).Reverse().Select(c => PythonText.FromCodePoints([c]))),
            2 => mangled + random.Next(100, 10000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            3 => mangled + mangled,
            _ => mangled,
        };
    }

    private static string RandomCase(Random random, string text) =>
        string.Concat(text.Select(c => random.Next(2) == 0 ? char.ToUpperInvariant(c) : c));

    private static string Padded(Random random, string text) => random.Next(3) switch
    {
        0 => text,
        1 => PythonSpaces[random.Next(PythonSpaces.Length)] + text + PythonSpaces[random.Next(PythonSpaces.Length)],
        _ => text + PythonSpaces[random.Next(PythonSpaces.Length)] + PythonSpaces[random.Next(PythonSpaces.Length)],
    };

    private static string Digits(Random random)
    {
        string[] scripts = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789½"];
        var script = PythonText.CodePoints(scripts[random.Next(scripts.Length)]);
        var length = random.Next(0, 14);
        return PythonText.FromCodePoints(Enumerable.Range(0, length).Select(_ => script[random.Next(script.Length)]));
    }

    /// <summary>Over 200 characters: an attribute repeated with noise, or one alphabet's letters in another order.</summary>
    private static string Long(Random random, string username, string email, string first, string last)
    {
        string[] sources = [username, email, first, last, "abcdefghij"];
        var source = sources[random.Next(sources.Length)] is { Length: > 0 } chosen ? chosen : username;
        var length = random.Next(200, 420);
        var codePoints = PythonText.CodePoints(source);
        return random.Next(3) switch
        {
            0 => Repeat(source, length),
            1 => Repeat(Mangled(random, source), length),
            _ => PythonText.FromCodePoints(Enumerable.Range(0, length).Select(_ => codePoints[random.Next(codePoints.Length)])),
        };
    }

    private static string Repeat(string text, int length)
    {
        var repeated = new StringBuilder();
        while (repeated.Length < length)
            repeated.Append(text.Length > 0 ? text : "x");
        // Cut between surrogates would leave a lone one: cut before it instead.
        var cut = char.IsHighSurrogate(repeated[length - 1]) ? length - 1 : length;
        return repeated.ToString(0, cut);
    }

    /// <summary>
    /// A JSON string literal in ASCII, every other character escaped as <c>\uXXXX</c>: unlike System.Text.Json, it
    /// writes lone surrogates too, which Python reads back as the same code points.
    /// </summary>
    public static string JsonString(string text)
    {
        var json = new StringBuilder("\"");
        foreach (var c in text)
        {
            if (c is >= ' ' and <= '~' and not '"' and not '\\')
                json.Append(c);
            else
                json.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }
        return json.Append('"').ToString();
    }

    /// <summary>Every 97th entry of Django's list, as the repository ships it.</summary>
    private static List<string> CommonPasswords()
    {
        using var file = File.OpenRead(RepositoryFiles.Find("src/Postern.Server/Accounts/Passwords/common-passwords.txt.gz"));
        using var text = new StreamReader(new GZipStream(file, CompressionMode.Decompress));
        var passwords = new List<string>();
        for (var i = 0; text.ReadLine() is { } line; i++)
        {
            if (i % 97 == 0)
                passwords.Add(line);
        }
        return passwords;
    }
}
