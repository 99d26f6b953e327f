using Postern.Protocol;

namespace Postern.Protocol.Tests;

public class SessionKeyTests
{
    [Fact]
    public void NewKeysAreThirtyTwoLowercaseAlphanumerics()
    {
        var keys = Enumerable.Range(0, 200).Select(_ => SessionKey.New()).ToList();
        Assert.All(keys, k => Assert.Matches("^[a-z0-9]{32}$", k));
        Assert.All(keys, k => Assert.True(SessionKey.IsWellFormed(k)));
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345")]
    [InlineData("abcdefghijklmnopqrstuvwxyz01234;")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    public void OtherValuesAreNotSessionKeys(string value) => Assert.False(SessionKey.IsWellFormed(value));
}
