using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using Postern.Bench.Servers;
using Postern.Client.Bench;

// In process: Postern runs in a process of its own, so there is nothing to isolate, and BenchmarkDotNet
// need not generate and build a project per job (minutes on a shared 2-core box).
// A fixed number of short iterations rather than BenchmarkDotNet's "until the error is small", which on a
// busy shared box runs 100 iterations of every benchmark and still ends noisy; the median beside the mean
// shrugs off the iterations another engineer's build landed on. Any BenchmarkDotNet option may follow and
// changes this job (e.g. --iterationCount 100).
if (args is ["--interleaved", ..])
{
    foreach (var backend in Enum.GetValues<Backend>())
        await InterleavedRounds.RunAsync(backend);
    return;
}

var job = Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithWarmupCount(10)
    .WithIterationTime(TimeInterval.FromMilliseconds(250))
    .WithIterationCount(60)
    .AsDefault();
var config = DefaultConfig.Instance
    .AddJob(job)
    .AddColumn(StatisticColumn.Median)
    .WithArtifactsPath(Path.Combine(BuildOutput.RepositoryRoot(), "artifacts", "client-bench"));
BenchmarkRunner.Run<ClientOverheadBenchmarks>(config, args);
