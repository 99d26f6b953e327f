using System.Globalization;

namespace Postern.Bench;

/// <summary>Issue 6's targets, judged on one run's numbers (informational: the runner's exit code ignores them).</summary>
public static class Targets
{
    public const long IdleResidentLimitBytes = 100_000_000;
    public const double FloodP99LimitMilliseconds = 25;

    public static IReadOnlyList<TargetResult> Judge(BenchReport report)
    {
        if (report.Scale)
            return JudgeScale(report);
        var results = new List<TargetResult>
        {
            Ratio(report, "user-detail", ServerKind.CookieAuth, "(a) user detail ≥ 1.0× ASP.NET cookie auth", 1.0, percent: false),
            Ratio(report, "user-detail", ServerKind.BareKestrel, "(a) user detail ≥ 50% of bare Kestrel", 0.5, percent: true),
            Ratio(report, "user-list", ServerKind.Django, "(b) list page ≥ 100× the Django peer", 100, percent: false),
            Login(report),
            Flood(report),
        };
        var postern = report.Memory.FirstOrDefault(m => m.Server == ServerKind.Postern);
        results.Add(postern is null
            ? new TargetResult("idle RSS < 100 MB", "not measured", null)
            : new TargetResult("idle RSS < 100 MB", Format.Megabytes(postern.IdleResidentBytes),
                postern.IdleResidentBytes < IdleResidentLimitBytes));
        results.Add(postern?.Soak is { } soak
            ? new TargetResult($"no RSS growth across a {soak.Seconds} s run", Format.Growth(soak), soak.Bounded)
            : new TargetResult("no RSS growth across a 60 s run", "not run (bench/run.sh --soak)", null));
        return results;
    }

    /// <summary>Issue 18's scale-out targets: authenticated reads through nginx ≥ 50× Django's deployment; no errors on a restart.</summary>
    private static List<TargetResult> JudgeScale(BenchReport report)
    {
        var results = new List<TargetResult>
        {
            Ratio(report, "user-detail", ServerKind.DjangoScaled, "(a) authenticated user detail through nginx ≥ 50× Django's deployment",
                50, percent: false, ServerKind.PosternScaled),
            Ratio(report, "user-list", ServerKind.DjangoScaled, "(b) authenticated list page through nginx ≥ 50× Django's deployment",
                50, percent: false, ServerKind.PosternScaled),
        };
        const string Target = "(h) no errors while one instance is restarted";
        var restart = report.Find(Scenario.RestartKey, ServerKind.PosternScaled);
        results.Add(restart is null
            ? new TargetResult(Target, "not measured", null)
            : new TargetResult(Target, string.Create(CultureInfo.InvariantCulture,
                $"{restart.Result.Errors:#,0} errors in {restart.Result.Requests:#,0} requests (status ≥ 400: {restart.Result.StatusErrors},"
                + $" timeouts: {restart.Result.Timeouts}, connect/read/write: {restart.Result.ConnectErrors}/{restart.Result.ReadErrors}"
                + $"/{restart.Result.WriteErrors}); nginx logged {report.Restart?.NotOk ?? 0:#,0} answers other than 2xx"),
                restart.Result.Errors == 0 && report.Restart is { NotOk: 0 }));
        return results;
    }

    private static TargetResult Ratio(BenchReport report, string scenario, ServerKind baseline, string target, double least, bool percent,
        ServerKind oursKind = ServerKind.Postern)
    {
        var ours = report.Find(scenario, oursKind);
        var theirs = report.Find(scenario, baseline);
        if (ours is null || theirs is null || theirs.Result.RequestsPerSecond == 0)
            return new TargetResult(target, "not measured", null);
        var ratio = ours.Result.RequestsPerSecond / theirs.Result.RequestsPerSecond;
        var measured = (percent ? Format.Percent(ratio) : Format.Times(ratio))
            + $" ({Format.Rate(ours.Result.RequestsPerSecond)} vs {Format.Rate(theirs.Result.RequestsPerSecond)} req/s)";
        return new TargetResult(target, measured, ratio >= least);
    }

    private static TargetResult Login(BenchReport report)
    {
        const string Target = "(d) login ≥ 90% of the hash bound";
        var login = report.Find("login", ServerKind.Postern);
        if (login is null || report.HashBound is not { } bound)
            return new TargetResult(Target, "not measured", null);
        var share = login.Result.RequestsPerSecond / bound.LoginsPerSecond;
        return new TargetResult(Target, string.Create(CultureInfo.InvariantCulture,
            $"{Format.Percent(share)} ({login.Result.RequestsPerSecond:0.00} logins/s; bound {bound.Cores}"
            + $" cores ÷ {bound.SecondsPerHash * 1000:0} ms = {bound.LoginsPerSecond:0.00}/s)"),
            share >= 0.9);
    }

    private static TargetResult Flood(BenchReport report)
    {
        const string Target = "(f) during a login flood, authenticated GET p99 < 25 ms";
        var get = report.Find("login-flood", ServerKind.Postern, loadIndex: 0);
        if (get is null || get.Result.Requests == 0)
            return new TargetResult(Target, get is null ? "not measured" : "no GET completed", get is null ? null : false);
        var p99 = get.Result.P99Microseconds / 1000.0;
        var logins = report.Find("login-flood", ServerKind.Postern, loadIndex: 1);
        var during = logins is null
            ? ""
            : string.Create(CultureInfo.InvariantCulture, $" ({logins.Result.RequestsPerSecond:0.00} logins/s meanwhile)");
        return new TargetResult(Target, Format.Latency(get.Result.P99Microseconds) + during, p99 < FloodP99LimitMilliseconds);
    }
}
