using System.Net;
using Postern.Server.Accounts;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// Password hashes run on their own threads, niced below the request threads, so a login flood yields the CPU to
/// signed-in users.
/// </summary>
public sealed class HashingThreadsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    /// <summary>The nice value of each of this process's threads with the given name, from /proc (Linux).</summary>
    private static List<int> NiceValuesOfThreadsNamed(string prefix)
    {
        var values = new List<int>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                if (!name.StartsWith(prefix, StringComparison.Ordinal))
                    continue;
                // /proc/PID/task/TID/stat: "tid (comm) state ..." — field 19 is the nice value; comm may hold spaces, so split after ')'.
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                values.Add(int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // the thread ended while we looked
            }
        }
        return values;
    }

    [Fact]
    public async Task HashesRunOnDedicatedThreadsWithALowerPriority()
    {
        var visitor = new Visitor(fixture.Server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("alice", "alice-password")).Status);

        // Linux truncates thread names to 15 characters: "postern-hash-0".
        var nice = NiceValuesOfThreadsNamed("postern-hash-");
        Assert.NotEmpty(nice);
        Assert.All(nice, value => Assert.Equal(5, value));
    }

    [Fact]
    public async Task AHashWaitingInLineIsDroppedWhenItsCallerGivesUp()
    {
        using var threads = new HashingThreads(1);
        var release = new ManualResetEventSlim();
        var blocking = threads.RunAsync(() => release.Wait(TimeSpan.FromSeconds(10)), CancellationToken.None);
        using var giveUp = new CancellationTokenSource();
        var ran = false;
        var waiting = threads.RunAsync(() => ran = true, giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        release.Set();
        Assert.True(await blocking);
        Assert.False(ran);
    }
}
