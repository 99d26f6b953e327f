using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Postern.Bench;

/// <summary>What one wrk process measured, from the line its done() hook prints (bench/wrk/common.lua).</summary>
public sealed record WrkResult(
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("duration_us")] long DurationMicroseconds,
    [property: JsonPropertyName("p50_us")] long P50Microseconds,
    [property: JsonPropertyName("p99_us")] long P99Microseconds,
    [property: JsonPropertyName("mean_us")] double MeanMicroseconds,
    [property: JsonPropertyName("max_us")] long MaxMicroseconds,
    [property: JsonPropertyName("connect_errors")] long ConnectErrors,
    [property: JsonPropertyName("read_errors")] long ReadErrors,
    [property: JsonPropertyName("write_errors")] long WriteErrors,
    [property: JsonPropertyName("status_errors")] long StatusErrors,
    [property: JsonPropertyName("timeouts")] long Timeouts)
{
    public double RequestsPerSecond => DurationMicroseconds > 0 ? Requests * 1e6 / DurationMicroseconds : 0;

    /// <summary>Socket errors, timeouts and responses with a status of 400 or more.</summary>
    public long Errors => ConnectErrors + ReadErrors + WriteErrors + StatusErrors + Timeouts;

    /// <summary>With BENCH_LOG_FAILURES=1 in the environment: the first failed responses (status and the start of the body).</summary>
    public IReadOnlyList<string> FailureSamples { get; init; } = [];
}

/// <summary>Runs Debian's wrk with one of bench/wrk's scripts.</summary>
public static class Wrk
{
    private const string ResultMarker = "BENCH-RESULT ";
    private const string FailureMarker = "BENCH-FAILURE ";
    private const int KeptFailures = 5;

    /// <summary>Long enough that a login queued behind 32 others on Django's two workers is measured, not dropped as a timeout.</summary>
    public const int TimeoutSeconds = 30;

    public static string ScriptFolder() => Path.Combine(Servers.BuildOutput.RepositoryRoot(), "bench", "wrk");

    public static async Task<WrkResult> RunAsync(
        Uri baseAddress, Load load, int seconds, string? sessionsFile, CancellationToken ct = default)
    {
        var start = new ProcessStartInfo("wrk")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var threads = Math.Min(Environment.ProcessorCount, load.Connections);
        foreach (var argument in new[]
        {
            "-t", threads.ToString(CultureInfo.InvariantCulture),
            "-c", load.Connections.ToString(CultureInfo.InvariantCulture),
            "-d", seconds.ToString(CultureInfo.InvariantCulture) + "s",
            "--timeout", TimeoutSeconds.ToString(CultureInfo.InvariantCulture) + "s",
            "-s", Path.Combine(ScriptFolder(), load.Script),
            new Uri(baseAddress, load.Path).ToString(),
        })
            start.ArgumentList.Add(argument);
        start.Environment["BENCH_SESSIONS"] = sessionsFile ?? "";
        start.Environment["BENCH_METHOD"] = load.Method.Method;
        start.Environment["BENCH_BODY"] = load.Body ?? "";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start wrk.");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var text = await output;
        var lines = text.Split('\n');
        var line = lines.FirstOrDefault(l => l.StartsWith(ResultMarker, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
            throw new InvalidOperationException(
                $"wrk {string.Join(' ', start.ArgumentList)} exited {process.ExitCode} without a result:\n{text}{await errors}");
        var result = JsonSerializer.Deserialize<WrkResult>(line[ResultMarker.Length..])
            ?? throw new InvalidOperationException("wrk printed an empty result.");
        return result with
        {
            FailureSamples = lines.Where(l => l.StartsWith(FailureMarker, StringComparison.Ordinal))
                .Take(KeptFailures)
                .Select(l => l[FailureMarker.Length..])
                .ToList(),
        };
    }

    /// <summary>wrk's own version line, for the report.</summary>
    public static async Task<string> VersionAsync()
    {
        try
        {
            var start = new ProcessStartInfo("wrk", "-v")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var text = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            var first = text.Split('\n')[0];
            var copyright = first.IndexOf(" Copyright", StringComparison.Ordinal);
            return copyright > 0 ? first[..copyright] : first;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("wrk is not installed (apt-get install wrk; bench/run.sh does it as root).");
        }
    }
}
