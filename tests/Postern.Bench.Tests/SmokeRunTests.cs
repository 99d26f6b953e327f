using System.Diagnostics;
using System.Text.Json;
using Postern.Bench.Servers;

namespace Postern.Bench.Tests;

/// <summary>
/// The benchmark's own smoke run (bench/Postern.Bench --smoke): every server, every scenario and the soak,
/// a few seconds each, against real processes and Debian's wrk. It asserts that everything ran and was
/// measured without a single error, never how fast (speed is for bench/run.sh on a quiet machine).
/// </summary>
public sealed class SmokeRunTests
{
    private static readonly string[] Everyone = ["Postern", "CookieAuth", "BareKestrel", "Django"];
    private static readonly string[] WithAccounts = ["Postern", "CookieAuth", "Django"];

    /// <summary>
    /// What the report must hold: (scenario, load index) on each of these servers. (login-timing is not wrk's: it has a
    /// section of its own, checked below.)
    /// </summary>
    private static readonly (string Scenario, int Loads, string[] Servers)[] Expected =
    [
        ("user-detail", 1, Everyone),
        ("user-list", 1, Everyone),
        ("csrf", 1, Everyone),
        ("login", 1, WithAccounts),
        ("write", 1, WithAccounts),
        ("login-flood", 2, WithAccounts),
        ("soak", 2, WithAccounts),
    ];

    [Fact]
    public async Task ASmokeRunMeasuresEveryScenarioOnEveryServerWithoutErrors()
    {
        var folder = Directory.CreateTempSubdirectory("postern-bench-smoke-").FullName;
        try
        {
            var json = Path.Combine(folder, "results.json");
            var markdown = Path.Combine(folder, "results.md");
            var (exitCode, output, errors) = await RunAsync("--smoke", "--soak", "--json", json, "--out", markdown);
            Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}\n{errors}");

            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            var root = report.RootElement;
            Assert.Empty(root.GetProperty("Problems").EnumerateArray());
            var measurements = root.GetProperty("Measurements").EnumerateArray().ToList();
            foreach (var (scenario, loads, servers) in Expected)
            {
                foreach (var server in servers)
                {
                    for (var load = 0; load < loads; load++)
                    {
                        var row = Assert.Single(measurements, m => m.GetProperty("Scenario").GetString() == scenario
                            && m.GetProperty("Server").GetString() == server && m.GetProperty("LoadIndex").GetInt32() == load);
                        var result = row.GetProperty("Result");
                        var what = $"{scenario} #{load} on {server}: {result}";
                        Assert.True(result.GetProperty("Errors").GetInt64() == 0, what);
                        Assert.True(row.GetProperty("PeakResidentBytes").GetInt64() > 0, what);
                        // The soak's logins run beside 32 connections of reads, and Postern's hashing threads
                        // yield the CPU to requests on purpose: in a 3 s smoke soak none may finish.
                        if (scenario == "soak" && load == 1)
                            continue;
                        Assert.True(result.GetProperty("requests").GetInt64() > 0, what);
                        Assert.True(result.GetProperty("p50_us").GetInt64() > 0, what);
                        Assert.True(result.GetProperty("p99_us").GetInt64() > 0, what);
                    }
                }
            }
            Assert.Equal(Expected.Sum(e => e.Loads * e.Servers.Length), measurements.Count);

            var memory = root.GetProperty("Memory").EnumerateArray().ToList();
            Assert.Equal(Everyone.Order(), memory.Select(m => m.GetProperty("Server").GetString()!).Order());
            Assert.All(memory, m => Assert.True(m.GetProperty("IdleResidentBytes").GetInt64() > 0, m.ToString()));
            Assert.All(memory.Where(m => WithAccounts.Contains(m.GetProperty("Server").GetString())),
                m => Assert.NotEmpty(m.GetProperty("Soak").GetProperty("Samples").EnumerateArray()));
            Assert.True(root.GetProperty("HashBound").GetProperty("LoginsPerSecond").GetDouble() > 0);
            // The refused logins, timed on Postern: every kind, every round, answered as it should have been.
            var timing = root.GetProperty("LoginTiming");
            Assert.Equal(["wrong password", "unknown user", "locked account"],
                timing.GetProperty("Kinds").EnumerateArray().Select(k => k.GetProperty("Kind").GetString()!));
            Assert.All(timing.GetProperty("Kinds").EnumerateArray(), k => Assert.Equal(timing.GetProperty("Rounds").GetInt32(),
                k.GetProperty("Milliseconds").EnumerateArray().Count(ms => ms.GetDouble() > 0)));
            // Every target is judged (PASS or FAIL, whichever: the smoke run's numbers mean nothing).
            Assert.All(root.GetProperty("Targets").EnumerateArray(),
                t => Assert.NotEqual(JsonValueKind.Null, t.GetProperty("Pass").ValueKind));

            // The markdown went to stdout and to --out alike, with a row per measurement.
            var table = await File.ReadAllTextAsync(markdown);
            Assert.Equal(table, output);
            var lines = table.Split('\n');
            var header = Array.IndexOf(lines, "| scenario | load | server | conns | req/s | p50 | p99 | errors | peak RSS |");
            Assert.True(header >= 0, table);
            Assert.Equal(measurements.Count, lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|')).Count());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output, string Errors)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(BuildOutput.Assembly(Path.Combine("bench", "Postern.Bench"), "Postern.Bench"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        // Generous: the machine is shared, and start-up, sign-in and each login are password hashes.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The smoke run did not finish in 10 minutes:\n{await errors}");
        }
        return (process.ExitCode, await output, await errors);
    }
}
