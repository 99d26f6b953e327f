using Microsoft.Extensions.Options;

namespace Postern.Server.Hosting;

/// <summary><c>Postern:Memory</c>: what the server does about its own memory.</summary>
public sealed class MemoryOptions
{
    public const string Section = "Postern:Memory";

    /// <summary>Whether <see cref="IdleMemoryTrimmer"/> gives back the heap a burst of requests left, once the server goes quiet.</summary>
    public bool TrimWhenIdle { get; set; } = true;
}

/// <summary>
/// Gives back what a burst of requests left on the managed heap once the server goes quiet. The collector runs only when
/// something allocates, so a server that served a burst and then went idle keeps the garbage of its last requests (up to a
/// gen0 budget per heap: from a few to some tens of MB) committed and resident for as long as it stays idle: the idle RSS
/// the benchmark reads after a short load ranged over 102-127 MB from one run to the next for that reason alone
/// (bench/README.md). Twice a second this compares how much the process has allocated: after at least
/// <see cref="BusyBytes"/> since the last trim, an interval with less than <see cref="QuietBytes"/> is the server going
/// quiet, and it runs one blocking, compacting, aggressive collection (which also decommits what it freed): a few
/// milliseconds on a heap of this size, once per burst. Under load it never runs; a trickle of requests gets one at most
/// every few minutes. <c>Postern:Memory:TrimWhenIdle=false</c> turns it off.
/// </summary>
public sealed class IdleMemoryTrimmer(IOptions<MemoryOptions> options, TimeProvider time) : BackgroundService
{
    /// <summary>How often the allocation count is read.</summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>Less than this allocated in one <see cref="Interval"/> is quiet (a few dozen requests a second allocate more).</summary>
    internal const long QuietBytes = 64 * 1024;

    /// <summary>What must have been allocated since the last trim for another to be worth it.</summary>
    internal const long BusyBytes = 32 * 1024 * 1024;

    /// <summary>Whether the server just went quiet after enough work to leave garbage worth collecting.</summary>
    internal static bool ShouldTrim(long allocated, long allocatedAtLastTick, long allocatedAtLastTrim) =>
        allocated - allocatedAtLastTick < QuietBytes && allocated - allocatedAtLastTrim >= BusyBytes;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.TrimWhenIdle)
            return;
        using var timer = new PeriodicTimer(Interval, time);
        var last = GC.GetTotalAllocatedBytes();
        var atLastTrim = last;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var allocated = GC.GetTotalAllocatedBytes();
                if (ShouldTrim(allocated, last, atLastTrim))
                {
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    allocated = GC.GetTotalAllocatedBytes();
                    atLastTrim = allocated;
                }
                last = allocated;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
