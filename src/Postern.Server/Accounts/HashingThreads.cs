using System.Runtime.InteropServices;
using System.Threading.Channels;
using Postern.Server.Observability;

namespace Postern.Server.Accounts;

/// <summary>
/// Dedicated threads for password hashing, at a lower scheduling priority than the threads serving requests.
/// A PBKDF2 at Django's 1,000,000 iterations holds a core for a few hundred milliseconds: on the thread pool,
/// a login flood would take every core from the requests of users already signed in. Here hashes use every
/// idle cycle (logins alone still run at the speed of all cores) but yield the CPU to request threads at once.
/// </summary>
public sealed partial class HashingThreads : IDisposable
{
    /// <summary>
    /// Linux nice value of the hashing threads. 5 weighs a third of a normal thread when the CPU is contended: request
    /// threads win it, yet logins still progress on a machine busy with other work (10 starved them there).
    /// </summary>
    private const int Niceness = 5;

    private readonly Channel<Work> _queue =
        Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly Thread[] _threads;
    private readonly PosternMetrics? _metrics;

    private sealed record Work(Action Run, TaskCompletionSource Done, long QueuedAt, CancellationToken Ct);

    /// <param name="metrics">Counts the hashes queued and measures their wait in line (postern.password_hash.*).</param>
    public HashingThreads(int count, PosternMetrics? metrics = null)
    {
        _metrics = metrics;
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Serve) { IsBackground = true, Name = $"postern-hash-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Runs <paramref name="hash"/> on a hashing thread; waits in line while every one is busy.</summary>
    public async Task<T> RunAsync<T>(Func<T> hash, CancellationToken ct)
    {
        T result = default!;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _metrics?.HashQueued();
        var queued = _queue.Writer.TryWrite(new Work(() => result = hash(), done, _metrics?.HashStart() ?? 0, ct));
        ObjectDisposedException.ThrowIf(!queued, this);
        await done.Task.WaitAsync(ct);
        return result;
    }

    private void Serve()
    {
        LowerPriority();
        var reader = _queue.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var work))
            {
                // A client that gave up while waiting in line costs nothing.
                if (work.Ct.IsCancellationRequested)
                {
                    work.Done.TrySetCanceled(work.Ct);
                    continue;
                }
                _metrics?.HashWaited(work.QueuedAt);
                var started = _metrics?.HashStart() ?? 0;
                try
                {
                    work.Run();
                    _metrics?.HashDone(started);
                    work.Done.TrySetResult();
                }
                catch (Exception e)
                {
                    work.Done.TrySetException(e);
                }
            }
        }
    }

    /// <summary>Raising one's own nice value needs no privilege; elsewhere than Linux the threads keep normal priority.</summary>
    private static void LowerPriority()
    {
        if (!OperatingSystem.IsLinux())
            return;
        try
        {
            _ = SetPriority(PriorityOfProcess, GetThreadId(), Niceness);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // a libc without gettid: normal priority, still off the thread pool
        }
    }

    private const int PriorityOfProcess = 0; // PRIO_PROCESS: with a thread id, applies to that thread alone on Linux

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    public void Dispose() => _queue.Writer.TryComplete();
}
