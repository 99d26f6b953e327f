using Postern.Protocol;

namespace Postern.Protocol.Tests;

/// <summary>Vectors from Django's tests/csrf_tests/tests.py (see shared/docs/django-protocol.md §2.3).</summary>
public class CsrfTokenTests
{
    private const string TestSecret = "lcccccccX2kcccccccY2jcccccccssIC";
    private const string MaskedTestSecret1 = "1bcdefghij2bcdefghij3bcdefghij4bcdefghij5bcdefghij6bcdefghijABCD";
    private const string MaskedTestSecret2 = "2JgchWvM1tpxT2lfz9aydoXW9yT1DN3NdLiejYxOOlzzV4nhBbYqmqZYbAV3V5Bf";

    [Fact]
    public void MaskingWithDjangosVectorGivesDjangosToken() =>
        Assert.Equal(MaskedTestSecret1, CsrfToken.MaskWith(TestSecret, "1bcdefghij2bcdefghij3bcdefghij4b"));

    [Theory]
    [InlineData(MaskedTestSecret1, TestSecret)]
    [InlineData(MaskedTestSecret2, TestSecret)]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("vFioG3XOLyGyGsPRFyB9iYUs341ufzIEvFioG3XOLyGyGsPRFyB9iYUs341ufzIE", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    [InlineData("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbcccccccccccccccccccccccccccccccc", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaacccccccccccccccccccccccccccccccc", "cccccccccccccccccccccccccccccccc")]
    public void UnmaskGivesDjangosSecret(string token, string secret) => Assert.Equal(secret, CsrfToken.Unmask(token));

    [Fact]
    public void EveryMaskOfASecretUnmasksToIt()
    {
        var secret = CsrfToken.NewSecret();
        var first = CsrfToken.Mask(secret);
        var second = CsrfToken.Mask(secret);
        Assert.NotEqual(first, second);
        Assert.Equal(secret, CsrfToken.Unmask(first));
        Assert.Equal(secret, CsrfToken.Unmask(second));
    }

    [Fact]
    public void NewSecretsAreThirtyTwoCharsOfTheAlphabet()
    {
        var secrets = Enumerable.Range(0, 200).Select(_ => CsrfToken.NewSecret()).ToList();
        Assert.All(secrets, s => Assert.Matches("^[a-zA-Z0-9]{32}$", s));
        Assert.Equal(secrets.Count, secrets.Distinct().Count());
    }

    [Theory]
    [InlineData("", CsrfTokenFormatError.IncorrectLength)]
    [InlineData("abc", CsrfTokenFormatError.IncorrectLength)]
    [InlineData(TestSecret + "x", CsrfTokenFormatError.IncorrectLength)]
    [InlineData("lcccccccX2kcccccccY2jcccccccssI!", CsrfTokenFormatError.InvalidCharacters)]
    [InlineData("lcccccccX2kcccccccY2jcccccccssI\u00e9", CsrfTokenFormatError.InvalidCharacters)]
    [InlineData(TestSecret, CsrfTokenFormatError.None)]
    [InlineData(MaskedTestSecret1, CsrfTokenFormatError.None)]
    public void FormatIsCheckedLengthFirst(string token, CsrfTokenFormatError expected) =>
        Assert.Equal(expected, CsrfToken.CheckFormat(token));

    [Fact]
    public void AnyCombinationOfMaskedAndUnmaskedMatches()
    {
        Assert.True(CsrfToken.Matches(TestSecret, TestSecret));
        Assert.True(CsrfToken.Matches(MaskedTestSecret1, TestSecret));
        Assert.True(CsrfToken.Matches(MaskedTestSecret2, CsrfToken.SecretFromCookieValue(MaskedTestSecret1)));
        Assert.False(CsrfToken.Matches(CsrfToken.NewSecret(), TestSecret));
        Assert.False(CsrfToken.Matches(CsrfToken.Mask(CsrfToken.NewSecret()), TestSecret));
    }
}
