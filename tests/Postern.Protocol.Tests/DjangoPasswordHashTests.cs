using Postern.Protocol;

namespace Postern.Protocol.Tests;

/// <summary>Vectors produced by Django itself (shared/docs/django-protocol.md §10).</summary>
public class DjangoPasswordHashTests
{
    private const string Salt = "abcdefghijklmnopqrstuv";
    private const string Django52 = "pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$OKSG6WDpemIRA42KjbVb4PyALogkZiELHx9o6E9KvXI=";
    private const string Django32 = "pbkdf2_sha256$260000$abcdefghijklmnopqrstuv$cGVEV4FDNqdFkk9A2c3uxv91PyZiKapE5Yrqy63kVrk=";
    private const string Django61 = "pbkdf2_sha256$1500000$abcdefghijklmnopqrstuv$2dQI6PcTeWD3j2WhfejgzsQ9JaHbVLW7haZXI1/uuNg=";

    [Fact]
    public void EncodingMatchesDjango52ByteForByte() =>
        Assert.Equal(Django52, DjangoPasswordHash.Encode("s3cret-pass", DjangoPasswordHash.Django52Iterations, Salt));

    [Theory]
    [InlineData(Django52)]
    [InlineData(Django32)]
    [InlineData(Django61)]
    public void HashesOfEveryDjangoVersionVerify(string encoded)
    {
        Assert.True(DjangoPasswordHash.TryParse(encoded, out var hash));
        Assert.True(hash.Verify("s3cret-pass"));
        Assert.False(hash.Verify("s3cret-pasS"));
        Assert.Equal(encoded, hash.ToString());
    }

    [Fact]
    public void OnlyHashesWithOtherIterationCountsNeedAnUpgrade()
    {
        Assert.True(DjangoPasswordHash.TryParse(Django32, out var old));
        Assert.True(old.NeedsUpgrade(DjangoPasswordHash.Django52Iterations));
        Assert.True(DjangoPasswordHash.TryParse(Django52, out var current));
        Assert.False(current.NeedsUpgrade(DjangoPasswordHash.Django52Iterations));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("!abcdefghijklmnopqrstuvwxyz")]
    [InlineData("md5$abc$def")]
    [InlineData("pbkdf2_sha256$notanumber$salt$hash")]
    [InlineData("pbkdf2_sha256$-5$salt$OKSG6WDpemIRA42KjbVb4PyALogkZiELHx9o6E9KvXI=")]
    [InlineData("pbkdf2_sha256$1000$salt$not-base64!")]
    [InlineData("pbkdf2_sha256$1000$salt$YWJj")]
    public void UnusableAndMalformedValuesDoNotParse(string? encoded) =>
        Assert.False(DjangoPasswordHash.TryParse(encoded, out _));

    [Fact]
    public void NewSaltsAndUnusableValuesHaveDjangosShape()
    {
        Assert.Matches("^[a-zA-Z0-9]{22}$", DjangoPasswordHash.NewSalt());
        Assert.Matches("^![a-zA-Z0-9]{40}$", DjangoPasswordHash.NewUnusable());
        Assert.False(DjangoPasswordHash.IsUsable(DjangoPasswordHash.NewUnusable()));
    }
}
