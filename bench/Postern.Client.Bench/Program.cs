using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Postern.Bench.Servers;
using Postern.Client.Bench;

// In process: Postern runs in a process of its own, so there is nothing to isolate, and BenchmarkDotNet
// need not generate and build a project per job (minutes on a shared 2-core box). Any BenchmarkDotNet
// option may follow (e.g. --job short).
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance))
    .WithArtifactsPath(Path.Combine(BuildOutput.RepositoryRoot(), "artifacts", "client-bench"));
BenchmarkRunner.Run<ClientOverheadBenchmarks>(config, args);
