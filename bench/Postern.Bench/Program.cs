using System.CommandLine;
using Postern.Bench;

var duration = new Option<int>("--duration") { Description = "Seconds of each measured run", DefaultValueFactory = _ => 10 };
var warmUp = new Option<int>("--warmup") { Description = "Seconds of warm-up before each measured run", DefaultValueFactory = _ => 2 };
var only = new Option<string?>("--only")
{
    Description = "Scenarios to run, comma-separated: user-detail, user-list, csrf, login, write, login-flood, login-timing, soak, "
        + "restart (default: all but soak and restart; with --scale all but login-timing and soak)",
};
var serversOption = new Option<string?>("--servers")
{
    Description = "Servers to run, comma-separated: postern, cookie, bare, django (default: all); with --scale postern-redis, "
        + "postern-pg, django-scaled (default: those three)",
};
var smoke = new Option<bool>("--smoke")
{
    Description = "A few seconds per scenario, no warm-up, 4 sessions: checks that everything runs (for the test suite)",
};
var soak = new Option<bool>("--soak")
{
    Description = "Also run the soak: mixed traffic with logins, resident memory sampled every second",
};
var scale = new Option<bool>("--scale")
{
    Description = "The scale-out run: Postern ×2 behind nginx on PostgreSQL + Redis, the same on PostgreSQL alone, and Django "
        + "under gunicorn behind nginx on PostgreSQL with cached_db sessions on Redis; plus the restart scenario",
};
var soakSeconds = new Option<int>("--soak-seconds") { Description = "Seconds of the soak", DefaultValueFactory = _ => 60 };
var sessions = new Option<int>("--sessions") { Description = "Signed-in sessions per server", DefaultValueFactory = _ => 64 };
var connections = new Option<int>("--connections")
{
    Description = "wrk connections for the read and write scenarios",
    DefaultValueFactory = _ => 32,
};
var output = new Option<string?>("--out") { Description = "Also write the markdown report to this file" };
var json = new Option<string?>("--json") { Description = "Also write every number as JSON to this file" };

var root = new RootCommand(
    "Postern's benchmark: Postern, ASP.NET Core cookie auth, bare Kestrel and the Django peer side by side under wrk")
{
    duration, warmUp, only, serversOption, smoke, soak, scale, soakSeconds, sessions, connections, output, json,
};
root.SetAction(async (parse, ct) =>
{
    var scenarioKeys = Scenario.Keys;
    var scaled = parse.GetValue(scale);
    var chosen = Split(parse.GetValue(only)) ?? Scenario.DefaultKeys(scaled, parse.GetValue(soak)).ToList();
    if (parse.GetValue(soak) && !chosen.Contains(Scenario.SoakKey))
        chosen.Add(Scenario.SoakKey);
    var unknownScenario = chosen.FirstOrDefault(k => !scenarioKeys.Contains(k));
    var kinds = scaled ? ServerKinds.Scale : ServerKinds.Standard;
    var serverKeys = Split(parse.GetValue(serversOption)) ?? kinds.Select(k => k.Key()).ToList();
    var unknownServer = serverKeys.FirstOrDefault(k => ServerKinds.Parse(k) is not { } kind || !kinds.Contains(kind));
    if (unknownScenario is not null || unknownServer is not null)
    {
        await Console.Error.WriteLineAsync(unknownScenario is not null
            ? $"Unknown scenario '{unknownScenario}'; known: {string.Join(", ", scenarioKeys)}."
            : $"Unknown server '{unknownServer}'{(scaled ? " with --scale" : "")}; known: {string.Join(", ", kinds.Select(k => k.Key()))}.");
        return 2;
    }
    var options = new BenchOptions
    {
        DurationSeconds = Math.Max(1, parse.GetValue(duration)),
        WarmUpSeconds = Math.Max(0, parse.GetValue(warmUp)),
        SoakSeconds = Math.Max(1, parse.GetValue(soakSeconds)),
        Sessions = Math.Max(1, parse.GetValue(sessions)),
        ReadConnections = Math.Max(1, parse.GetValue(connections)),
        Scale = scaled,
        Scenarios = chosen.ToHashSet(),
        Servers = serverKeys.Select(k => ServerKinds.Parse(k)!.Value).ToHashSet(),
        MarkdownFile = parse.GetValue(output),
        JsonFile = parse.GetValue(json),
        CommandLine = Environment.GetEnvironmentVariable("POSTERN_BENCH_COMMAND") is { Length: > 0 } shown
            ? shown
            : "Postern.Bench " + string.Join(' ', args),
    };
    if (parse.GetValue(smoke))
        options = BenchOptions.ForSmoke(options);
    BenchReport report;
    try
    {
        report = await new Benchmark(options, Console.Error).RunAsync();
    }
    catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or HttpRequestException)
    {
        // A server that would not start, a sign-in refused, wrk missing: one message, not a stack trace.
        await Console.Error.WriteLineAsync("error: " + e.Message);
        return 1;
    }
    await Benchmark.WriteAsync(report, options, Console.Out);
    return report.Problems.Count == 0 ? 0 : 1;
});
return await root.Parse(args).InvokeAsync();

static List<string>? Split(string? list) =>
    string.IsNullOrWhiteSpace(list)
        ? null
        : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
