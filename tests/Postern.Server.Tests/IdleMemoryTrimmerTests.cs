using Postern.Server.Hosting;

namespace Postern.Server.Tests;

/// <summary>When the idle trim runs: once the server goes quiet after real work, never under load nor while idle.</summary>
public sealed class IdleMemoryTrimmerTests
{
    private const long Busy = IdleMemoryTrimmer.BusyBytes;
    private const long Quiet = IdleMemoryTrimmer.QuietBytes;

    [Fact]
    public void AQuietIntervalAfterABurstTrims() =>
        Assert.True(IdleMemoryTrimmer.ShouldTrim(allocated: 2 * Busy, allocatedAtLastTick: 2 * Busy - Quiet + 1, allocatedAtLastTrim: 0));

    [Fact]
    public void UnderLoadNothingIsTrimmed() =>
        Assert.False(IdleMemoryTrimmer.ShouldTrim(allocated: 2 * Busy, allocatedAtLastTick: 2 * Busy - Quiet, allocatedAtLastTrim: 0));

    [Fact]
    public void AServerThatStaysIdleIsTrimmedOnceNotAgain() =>
        // Since the last trim less than a burst's worth was allocated: the heap is as small as it gets.
        Assert.False(IdleMemoryTrimmer.ShouldTrim(allocated: Busy + 100, allocatedAtLastTick: Busy + 100, allocatedAtLastTrim: Busy));
}
