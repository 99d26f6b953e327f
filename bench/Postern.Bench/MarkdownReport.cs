using System.Globalization;
using System.Text;

namespace Postern.Bench;

/// <summary>The report as markdown: the results table, Postern's ratios to each baseline, memory, and the targets.</summary>
public static class MarkdownReport
{
    public static string Write(BenchReport report)
    {
        var md = new StringBuilder();
        var m = report.Machine;
        md.AppendLine(CultureInfo.InvariantCulture,
            $"### Postern {(report.Scale ? "scale-out " : "")}benchmark, {report.Started:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- machine: {m.Cores} cores, {m.CpuModel}, {m.Kernel}; {m.Runtime}; {m.WrkVersion}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- command: `{report.CommandLine}` ({report.Elapsed.TotalMinutes:0.0} min)");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"- wrk and all {(report.Scale ? "the deployments (their nginx, instances, PostgreSQL and Redis)" : "four servers")} share"
            + $" the same {m.Cores} cores (one {(report.Scale ? "deployment" : "server")} is driven at a time; the others idle)."
            + $" Load average before: {report.LoadAverageBefore}, after: {report.LoadAverageAfter}.");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"- {report.Sessions} signed-in sessions per server (alice, staff), rotated per request; {report.WarmUpSeconds}"
            + $" s warm-up before each measured run; wrk timeout {Wrk.TimeoutSeconds}"
            + $" s; errors = socket errors, timeouts and statuses ≥ 400.");
        if (report.HashBound is { } bound)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"- hash bound: {bound.Cores} cores ÷ {bound.SecondsPerHash * 1000:0} ms per PBKDF2-SHA256 at {bound.Iterations:#,0}"
                + $" iterations (the median of {bound.Times.Count}"
                + $" timings in this run, before and after the login scenarios: {bound.Times.Min() * 1000:0}–{bound.Times.Max() * 1000:0}"
                + $" ms) = {bound.LoginsPerSecond:0.00} logins/s.");
        md.AppendLine(report.Scale
            ? "- peak RSS: the application servers' VmHWM during the measured run (both Postern instances, summed; gunicorn: master +"
                + " workers, summed; not nginx, PostgreSQL or Redis); MB = 10^6 bytes."
            : "- peak RSS: the servers' VmHWM during the measured run (gunicorn: master + workers, summed); MB = 10^6 bytes.");
        md.AppendLine();
        foreach (var scenario in report.Scenarios)
            md.AppendLine(CultureInfo.InvariantCulture, $"- {scenario.Title} (`{scenario.Key}`): {scenario.Description}");
        md.AppendLine();

        md.AppendLine("| scenario | load | server | conns | req/s | p50 | p99 | errors | peak RSS |");
        md.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in report.Measurements)
        {
            var none = r.Result.Requests == 0;
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.ScenarioTitle} | {r.Load} | {r.Server.Title()} | {r.Connections}"
                + $" | {(none ? $"none completed in {r.Seconds} s" : Format.Rate(r.Result.RequestsPerSecond))}"
                + $" | {(none ? "—" : Format.Latency(r.Result.P50Microseconds))}"
                + $" | {(none ? "—" : Format.Latency(r.Result.P99Microseconds))}"
                + $" | {r.Result.Errors:#,0} | {Format.Megabytes(r.PeakResidentBytes)} |");
        }
        md.AppendLine();

        var oursKind = ServerKinds.Ours(report.Scale);
        var baselines = ServerKinds.Baselines(report.Scale);
        md.AppendLine(CultureInfo.InvariantCulture, $"{oursKind.Title()}: requests/s ÷ each baseline's, same run:");
        md.AppendLine();
        md.AppendLine("| scenario | load | " + string.Join(" | ", baselines.Select(b => "÷ " + b.Title())) + " |");
        md.AppendLine("|---|---|" + string.Concat(baselines.Select(_ => "---:|")));
        foreach (var ours in report.Measurements.Where(r => r.Server == oursKind))
        {
            var cells = baselines.Select(b => report.Find(ours.Scenario, b, ours.LoadIndex) is { Result.RequestsPerSecond: > 0 } theirs
                ? Format.Times(ours.Result.RequestsPerSecond / theirs.Result.RequestsPerSecond)
                : "—").ToList();
            // A scenario that only ours plays (the restart) has nothing to divide by.
            if (cells.All(c => c == "—") && baselines.All(b => report.Find(ours.Scenario, b, ours.LoadIndex) is null))
                continue;
            md.AppendLine(CultureInfo.InvariantCulture, $"| {ours.ScenarioTitle} | {ours.Load} | {string.Join(" | ", cells)} |");
        }
        md.AppendLine();

        if (report.LoginTiming is { } timing)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"Refused logins on Postern, one at a time, {timing.Rounds} rounds of the three in rotating order after a round of"
                + $" warm-up, each round from a loopback address of its own; the ratio is to the wrong password's median, same run:");
            md.AppendLine();
            md.AppendLine("| login | request | answer | median | min | max | ÷ wrong password |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
            foreach (var kind in timing.Kinds)
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {kind.Kind} | {kind.Request} | {kind.Status} | {Milliseconds(kind.Median)} | {Milliseconds(kind.Milliseconds.Min())}"
                    + $" | {Milliseconds(kind.Milliseconds.Max())} | {timing.RatioToWrongPassword(kind):0.000}× |");
            md.AppendLine();
        }

        if (report.Restart is { } restart)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"Restart: {restart.StoppedAfterSeconds:0.0} s into the run the instance on {restart.Instance} was sent SIGTERM; it"
                + $" exited {restart.ExitMilliseconds:0} ms later (exit code {restart.ExitCode}), was started again and answered"
                + $" {restart.StartSeconds:0.0} s after its start. nginx's access log of the run:");
            md.AppendLine();
            md.AppendLine("| instance | requests answered | of them in the run's last tenth |");
            md.AppendLine("|---|---:|---:|");
            foreach (var (instance, count) in restart.ServedBy)
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {instance}{(instance == restart.Instance ? " (restarted)" : "")} | {count:#,0}"
                    + $" | {(instance == restart.Instance ? restart.ServedByRestartedInLastTenth.ToString("#,0", CultureInfo.InvariantCulture) : "")} |");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture,
                $"Requests nginx retried on the other instance after a failed first try: {restart.Retried:#,0}; answers other than 2xx"
                + $" in its log: {restart.NotOk:#,0}.");
            md.AppendLine();
        }

        md.AppendLine("| server | idle RSS | peak RSS (all scenarios) | soak |");
        md.AppendLine("|---|---:|---:|---|");
        foreach (var s in report.Memory)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {s.Server.Title()} | {Format.Megabytes(s.IdleResidentBytes)} | {Format.Megabytes(s.PeakResidentBytes)}"
                + $" | {(s.Soak is { } soak ? Format.Growth(soak) : "—")} |");
        md.AppendLine();
        md.AppendLine("Idle RSS: after start-up, seeding, sign-in and a short warm-up of (a), then a pause.");
        md.AppendLine();

        md.AppendLine(report.Scale ? "| issue 18 target | measured | |" : "| issue 6 target | measured | |");
        md.AppendLine("|---|---|---|");
        foreach (var t in report.Targets)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {t.Target} | {t.Measured} | {t.Pass switch { true => "PASS", false => "FAIL", null => "n/a" }} |");
        if (report.Problems.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Problems (the runner exits 1):");
            md.AppendLine();
            foreach (var problem in report.Problems)
                md.AppendLine("- " + problem.Replace("\n", " ", StringComparison.Ordinal));
        }
        return md.ToString();
    }

    private static string Milliseconds(double milliseconds) => Format.Latency((long)(milliseconds * 1000));
}
