using System.Diagnostics;
using System.Text.Json;
using Postern.Bench.Servers;

namespace Postern.Bench;

/// <summary>
/// One run: starts the chosen servers side by side, signs sessions in, measures idle memory, then plays
/// each scenario against each server in turn (a check request, a warm-up, the measured wrk run) and
/// writes the report. Progress goes to stderr, the markdown report to stdout.
/// </summary>
public sealed class Benchmark(BenchOptions options, TextWriter progress)
{
    private readonly List<Measurement> _measurements = [];
    private readonly List<string> _problems = [];
    private readonly Dictionary<ServerKind, SoakMemory> _soaks = [];
    private HashBound? _hashBound;
    private LoginTimingResult? _loginTiming;
    private RestartResult? _restart;
    private ScaleInfrastructure? _infrastructure;

    public async Task<BenchReport> RunAsync()
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var machine = await MachineInfo.ReadAsync();
        var loadBefore = MachineInfo.LoadAverage();
        var folder = Directory.CreateTempSubdirectory("postern-bench-").FullName;
        var servers = new List<RunningServer>();
        var scenarios = Scenario.All(options).Where(s => options.Scenarios.Contains(s.Key)).ToList();
        try
        {
            if (options.Scale)
            {
                Say("starting a private PostgreSQL cluster and Redis on loopback");
                _infrastructure = await ScaleInfrastructure.StartAsync();
            }
            servers.AddRange(await StartAllAsync(folder));
            foreach (var server in servers)
            {
                Say($"{server.Kind.Title()}: signing in {(server.Kind.SignsIn() ? options.Sessions : 0)} sessions");
                await server.SignInAsync(options.Sessions, folder);
                await MeasureIdleAsync(server);
            }
            foreach (var scenario in scenarios)
                await RunScenarioAsync(scenario, servers);
        }
        finally
        {
            foreach (var server in servers)
                await server.DisposeAsync();
            if (_infrastructure is not null)
                await _infrastructure.DisposeAsync();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        var memory = servers
            .Select(s => new ServerMemory(s.Kind, s.IdleResidentBytes, s.PeakResidentBytes, _soaks.GetValueOrDefault(s.Kind)))
            .ToList();
        var report = new BenchReport(started, clock.Elapsed, options.CommandLine, machine, loadBefore, MachineInfo.LoadAverage(),
            options.Sessions, options.WarmUpSeconds, _hashBound,
            scenarios.Select(s => new ScenarioSummary(s.Key, s.Title, s.Description)).ToList(),
            _measurements, memory, [], _problems);
        report = report with { LoginTiming = _loginTiming, Scale = options.Scale, Restart = _restart };
        return report with { Targets = Targets.Judge(report) };
    }

    /// <summary>All at once (Django's migrations, Postern's createuser and seeding overlap), each in its own process.</summary>
    private async Task<IReadOnlyList<RunningServer>> StartAllAsync(string folder)
    {
        Say("starting " + string.Join(", ", options.Servers.Order().Select(k => k.Title())));
        var starting = options.Servers.Order().Select(kind => RunningServer.StartAsync(kind, folder, _infrastructure)).ToList();
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                await started.Result.DisposeAsync();
            throw;
        }
        return starting.Select(t => t.Result).ToList();
    }

    /// <summary>Resident memory once the server has started, been seeded, signed sessions in and served a little, then rested.</summary>
    private async Task MeasureIdleAsync(RunningServer server)
    {
        var detail = Scenario.UserDetail(options.ReadConnections);
        await Wrk.RunAsync(server.Process.BaseAddress, detail, options.Smoke ? 1 : 3, server.FileFor(detail.Credentials));
        await Task.Delay(options.Smoke ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(2));
        server.IdleResidentBytes = server.Process.ResidentBytes;
        Say($"{server.Kind.Title()}: idle RSS {Format.Megabytes(server.IdleResidentBytes)}");
    }

    private async Task RunScenarioAsync(Scenario scenario, IReadOnlyList<RunningServer> servers)
    {
        if (scenario.TimesRefusedLogins)
        {
            await TimeRefusedLoginsAsync(servers);
            return;
        }
        var runs = options.Smoke ? 1 : 3;
        if (scenario.HashBound)
        {
            _hashBound = _hashBound is null ? HashBound.Measure(runs) : _hashBound.AndAgain(runs);
            SayHashBound();
        }
        await PlayAsync(scenario, servers);
        if (scenario.HashBound)
        {
            _hashBound = _hashBound!.AndAgain(runs);
            SayHashBound();
        }
    }

    private async Task TimeRefusedLoginsAsync(IReadOnlyList<RunningServer> servers)
    {
        if (servers.FirstOrDefault(s => s.Kind == ServerKind.Postern) is not { } postern)
            return;
        Say($"refused logins: {options.LoginTimingRounds} rounds of a wrong password, an unknown user and a locked account");
        try
        {
            _loginTiming = await LoginTiming.MeasureAsync(postern.Process.BaseAddress, options.LoginTimingRounds);
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException)
        {
            Report("refused logins: " + e.Message);
            return;
        }
        foreach (var kind in _loginTiming.Kinds)
            Say($"refused logins: {kind.Kind}: median {kind.Median:0.00} ms, {_loginTiming.RatioToWrongPassword(kind):0.000}×"
                + " the wrong password's");
    }

    private void SayHashBound() =>
        Say($"hash bound: {_hashBound!.Cores} ÷ {_hashBound.SecondsPerHash:0.000} s = {_hashBound.LoginsPerSecond:0.00} logins/s "
            + $"(median of {_hashBound.Times.Count} timings, {_hashBound.Times.Min():0.000}–{_hashBound.Times.Max():0.000} s)");

    private async Task PlayAsync(Scenario scenario, IReadOnlyList<RunningServer> servers)
    {
        string? posternBody = null;
        var ours = ServerKinds.Ours(options.Scale);
        foreach (var server in servers.Where(s => scenario.Servers.Contains(s.Kind)))
        {
            var (problem, body) = await ResponseCheck.RunAsync(server, scenario.Loads[0]);
            if (server.Kind == ours)
                posternBody = body;
            else if (problem is null && scenario.SameBodyAsPostern && posternBody is not null && !server.Kind.IsDjango()
                && body != posternBody)
                problem = $"{server.Kind.Title()} answers {scenario.Loads[0].Path} unlike Postern:\n  {body}\n  Postern: {posternBody}";
            if (problem is not null)
            {
                Report(problem);
                continue;
            }
            if (options.WarmUpSeconds > 0)
            {
                await RunLoadsAsync(scenario, server, options.WarmUpSeconds);
                await Task.Delay(options.SettleAfterWarmUp(scenario));
            }
            var seconds = options.SecondsFor(scenario);
            var (results, samples) = await MeasureAsync(scenario, server, seconds);
            // A smoke run proves that every load can be measured: on a busy machine a few seconds may not see one
            // password hash through, so a load that completed nothing runs again for longer.
            while (options.Smoke && seconds < MaxSmokeSeconds
                && scenario.Loads.Where((load, i) => !load.Background && results[i].Requests == 0).Any())
            {
                seconds *= 2;
                Say($"{scenario.Title}: {server.Kind.Title()}: a load completed no request; again for {seconds} s");
                (results, samples) = await MeasureAsync(scenario, server, seconds);
            }
            var peak = server.ReadPeak();
            if (scenario.SamplesMemory && samples.Count > 0)
                _soaks[server.Kind] = new SoakMemory(seconds, samples);
            for (var i = 0; i < results.Count; i++)
            {
                var load = scenario.Loads[i];
                var result = results[i];
                _measurements.Add(new Measurement(
                    scenario.Key, scenario.Title, load.Label, i, server.Kind, load.Connections, seconds, result, peak));
                Say($"{scenario.Title}: {server.Kind.Title()}: {load.Label}: {Format.Rate(result.RequestsPerSecond)}"
                    + $" req/s, p50 {Format.Latency(result.P50Microseconds)}, p99 {Format.Latency(result.P99Microseconds)}"
                    + $", {result.Errors} errors");
                if (result.Errors > 0)
                    Report($"{server.Kind.Title()}: {scenario.Title}: {load.Label}: {result.Errors}"
                        + $" errors (status ≥ 400: {result.StatusErrors}, timeouts: {result.Timeouts}"
                        + $", connect/read/write: {result.ConnectErrors}/{result.ReadErrors}/{result.WriteErrors})"
                        + (result.FailureSamples.Count > 0
                            ? "; first failures: " + string.Join(" | ", result.FailureSamples)
                            : "; run with BENCH_LOG_FAILURES=1 to see the failed responses"));
            }
        }
    }

    private const int MaxSmokeSeconds = 12;

    /// <summary>The measured run: peak memory reset first, resident memory sampled throughout when the scenario asks.</summary>
    private async Task<(IReadOnlyList<WrkResult> Results, IReadOnlyList<long> Samples)> MeasureAsync(
        Scenario scenario, RunningServer server, int seconds)
    {
        if (scenario.RestartsAnInstance)
            return (await MeasureRestartAsync(scenario, server, seconds), []);
        server.ResetPeak();
        var sampling = scenario.SamplesMemory ? SampleMemoryAsync(server, seconds) : Task.FromResult<IReadOnlyList<long>>([]);
        var results = await RunLoadsAsync(scenario, server, seconds);
        return (results, await sampling);
    }

    /// <summary>
    /// The load through nginx while the deployment's first instance is stopped (SIGTERM) a quarter into the run and started
    /// again; nginx's access log of the run (buffered: flushed every second) says which instance answered what.
    /// </summary>
    private async Task<IReadOnlyList<WrkResult>> MeasureRestartAsync(Scenario scenario, RunningServer server, int seconds)
    {
        if (server.Process is not ScaledDeployment deployment)
            throw new InvalidOperationException($"{scenario.Title} needs a deployment of several instances (--scale).");
        server.ResetPeak();
        var logStart = await FlushedLengthAsync(deployment.AccessLog);
        var load = RunLoadsAsync(scenario, server, seconds);
        var stopAfter = TimeSpan.FromSeconds(seconds / 4.0);
        await Task.Delay(stopAfter);
        Say($"{scenario.Title}: stopping {deployment.InstanceAddresses[0]} (SIGTERM)");
        var restart = await deployment.RestartInstanceAsync(0);
        Say($"{scenario.Title}: {restart.Address} exited {restart.ExitCode} {restart.Exit.TotalMilliseconds:0} ms after SIGTERM,"
            + $" answered again {restart.Start.TotalSeconds:0.0} s after its start");
        var results = await load;
        var restartEnded = stopAfter + restart.Exit + restart.Start;
        if (restartEnded > TimeSpan.FromSeconds(seconds))
            Report($"{scenario.Title}: the instance answered again only {restartEnded.TotalSeconds:0.0} s into a {seconds} s run;"
                + " run it longer (--duration)");
        var log = await ReadFromAsync(deployment.AccessLog, logStart);
        _restart = RestartResult.From(restart, stopAfter, deployment.InstanceAddresses, log);
        Say($"{scenario.Title}: nginx: {string.Join(", ", _restart.ServedBy.Select(p => $"{p.Key} {p.Value:#,0}"))};"
            + $" {_restart.Retried:#,0} retried on the other instance; {_restart.NotOk:#,0} answers other than 2xx");
        return results;
    }

    /// <summary>The length of an nginx log once its buffer (flushed every second) has been written out.</summary>
    private static async Task<long> FlushedLengthAsync(string path)
    {
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        return File.Exists(path) ? new FileInfo(path).Length : 0;
    }

    private static async Task<IReadOnlyList<string>> ReadFromAsync(string path, long offset)
    {
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        file.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(file);
        var lines = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
            lines.Add(line);
        return lines;
    }

    private static async Task<IReadOnlyList<WrkResult>> RunLoadsAsync(Scenario scenario, RunningServer server, int seconds) =>
        await Task.WhenAll(scenario.Loads.Select(load =>
            Wrk.RunAsync(server.Process.BaseAddress, load, seconds, server.FileFor(load.Credentials))));

    private static async Task<IReadOnlyList<long>> SampleMemoryAsync(RunningServer server, int seconds)
    {
        var samples = new List<long>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        for (var i = 0; i < seconds && await timer.WaitForNextTickAsync(); i++)
            samples.Add(server.Process.ResidentBytes);
        return samples;
    }

    private void Report(string problem)
    {
        _problems.Add(problem);
        progress.WriteLine("problem: " + problem);
    }

    private void Say(string line) => progress.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

    public static async Task WriteAsync(BenchReport report, BenchOptions options, TextWriter output)
    {
        var markdown = MarkdownReport.Write(report);
        await output.WriteAsync(markdown);
        if (options.MarkdownFile is { } file)
            await File.WriteAllTextAsync(file, markdown);
        if (options.JsonFile is { } json)
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, BenchReport.Json));
    }
}
