using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Postern.Bench.Servers;

namespace Postern.Bench;

/// <summary>A scenario that ran, as the report explains it.</summary>
public sealed record ScenarioSummary(string Key, string Title, string Description);

/// <summary>One load of one scenario against one server.</summary>
public sealed record Measurement(string Scenario, string ScenarioTitle, string Load, int LoadIndex, ServerKind Server, int Connections,
    int Seconds, WrkResult Result, long PeakResidentBytes);

/// <summary>Resident memory sampled once a second during the soak.</summary>
public sealed record SoakMemory(int Seconds, IReadOnlyList<long> Samples)
{
    /// <summary>
    /// The first sixth of the run (10 s of 60), at most its first minute (issue 18's target for longer soaks: the end within
    /// 10 % of the RSS after the first minute), warms caches and pools up; growth counts from there.
    /// </summary>
    public int WarmUpSeconds => Math.Min(Seconds / 6, 60);

    public long AfterWarmUpBytes => Samples[Math.Min(Samples.Count - 1, Samples.Count * WarmUpSeconds / Math.Max(1, Seconds))];
    public long StartBytes => Samples[0];
    public long EndBytes => Samples[^1];
    public long MaxBytes => Samples.Max();
    public long GrowthBytes => EndBytes - AfterWarmUpBytes;

    /// <summary>"No growth", allowing for the garbage collector's ebb and flow: at most 10 MB or 10%, whichever is more.</summary>
    public bool Bounded => GrowthBytes <= Math.Max(10_000_000, AfterWarmUpBytes / 10);
}

public sealed record ServerMemory(ServerKind Server, long IdleResidentBytes, long PeakResidentBytes, SoakMemory? Soak);

/// <summary>An issue-6 target: what was measured, and whether it holds (null: not measured in this run).</summary>
public sealed record TargetResult(string Target, string Measured, bool? Pass);

public sealed record BenchReport(
    DateTimeOffset Started,
    TimeSpan Elapsed,
    string CommandLine,
    MachineInfo Machine,
    string LoadAverageBefore,
    string LoadAverageAfter,
    int Sessions,
    int WarmUpSeconds,
    HashBound? HashBound,
    IReadOnlyList<ScenarioSummary> Scenarios,
    IReadOnlyList<Measurement> Measurements,
    IReadOnlyList<ServerMemory> Memory,
    IReadOnlyList<TargetResult> Targets,
    IReadOnlyList<string> Problems)
{
    public static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The refused logins' timing (the <c>login-timing</c> scenario), when it ran.</summary>
    public LoginTimingResult? LoginTiming { get; init; }

    /// <summary>--scale: the deployments behind nginx were measured, not single processes.</summary>
    public bool Scale { get; init; }

    /// <summary>The restart scenario's instance restart and nginx's view of it, when it ran.</summary>
    public RestartResult? Restart { get; init; }

    public Measurement? Find(string scenario, ServerKind server, int loadIndex = 0) =>
        Measurements.FirstOrDefault(m => m.Scenario == scenario && m.Server == server && m.LoadIndex == loadIndex);
}

/// <summary>
/// The restart scenario: when the instance was stopped, how long it took to exit and to answer again, and from nginx's
/// access log of the measured run, how many requests each instance answered, how many nginx retried on the other instance
/// (a failed first try: <c>$upstream_addr</c> names two), and how many answers were not 2xx.
/// </summary>
public sealed partial record RestartResult(string Instance, double StoppedAfterSeconds, double ExitMilliseconds, int ExitCode,
    double StartSeconds, IReadOnlyDictionary<string, long> ServedBy, long Retried, long NotOk, long ServedByRestartedInLastTenth)
{
    public static RestartResult From(InstanceRestart restart, TimeSpan stoppedAfter, IReadOnlyList<string> instances,
        IReadOnlyList<string> log)
    {
        var servedBy = instances.ToDictionary(i => i, _ => 0L);
        long retried = 0, notOk = 0, lastTenth = 0;
        for (var i = 0; i < log.Count; i++)
        {
            if (LogLine().Match(log[i]) is not { Success: true } match)
                continue;
            if (match.Groups["status"].Value[0] != '2')
                notOk++;
            var tried = match.Groups["upstreams"].Value.Split(", ");
            if (tried.Length > 1)
                retried++;
            var answered = tried[^1];
            if (servedBy.TryGetValue(answered, out var count))
                servedBy[answered] = count + 1;
            if (answered == restart.Address && i >= log.Count * 9 / 10)
                lastTenth++;
        }
        return new RestartResult(restart.Address, stoppedAfter.TotalSeconds, restart.Exit.TotalMilliseconds, restart.ExitCode,
            restart.Start.TotalSeconds, servedBy, retried, notOk, lastTenth);
    }

    /// <summary>NginxProxy's log format: <c>CLIENT "REQUEST" STATUS upstream=ADDRESS[, ADDRESS...] request_id=ID</c>.</summary>
    [GeneratedRegex("\" (?<status>[0-9]{3}) upstream=(?<upstreams>.*?) request_id=")]
    private static partial Regex LogLine();
}
