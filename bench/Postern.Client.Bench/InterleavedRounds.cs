using System.Diagnostics;

namespace Postern.Client.Bench;

/// <summary>
/// The same pairs as <see cref="ClientOverheadBenchmarks"/>, measured in alternating rounds (raw, session,
/// session, raw, ...) rather than one benchmark after the other: a shared VM's speed drifts over the minutes
/// BenchmarkDotNet spends on each, and alternating puts both sides of a pair under the same drift. The
/// figure is the median over rounds of session time ÷ raw time.
/// </summary>
public static class InterleavedRounds
{
    private const int Rounds = 40;
    private const int RequestsPerRound = 400;

    public static async Task RunAsync(Backend backend)
    {
        var bench = new ClientOverheadBenchmarks { Backend = backend };
        await bench.SetUpAsync();
        try
        {
            await ReportAsync($"signed-in GET ({backend})", bench.RawGetAsync, bench.SessionGetAsync);
            await ReportAsync($"CSRF-carrying PATCH ({backend})", bench.RawPatchAsync, bench.SessionPatchAsync);
        }
        finally
        {
            await bench.CleanUpAsync();
        }
    }

    private static async Task ReportAsync<TRaw, TSession>(string name, Func<Task<TRaw>> raw, Func<Task<TSession>> session)
    {
        for (var i = 0; i < RequestsPerRound; i++)
        {
            await raw();
            await session();
        }
        var rawTimes = new List<double>();
        var sessionTimes = new List<double>();
        var ratios = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            double r, s;
            if (round % 2 == 0)
            {
                r = await TimeAsync(raw);
                s = await TimeAsync(session);
            }
            else
            {
                s = await TimeAsync(session);
                r = await TimeAsync(raw);
            }
            rawTimes.Add(r);
            sessionTimes.Add(s);
            ratios.Add(s / r);
        }
        Console.WriteLine($"{name,-32} raw {Median(rawTimes),9:0.00} us   session {Median(sessionTimes),9:0.00}"
            + $" us   session/raw {Median(ratios):0.000} (median of {Rounds} alternating rounds of {RequestsPerRound})");
    }

    private static async Task<double> TimeAsync<T>(Func<Task<T>> send)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < RequestsPerRound; i++)
            await send();
        return clock.Elapsed.TotalMicroseconds / RequestsPerRound;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
