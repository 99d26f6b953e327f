using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Postern.Testing;

/// <summary>
/// A private Prometheus for the metrics tests: Debian's prometheus on a free loopback port, scraping the given targets every
/// second, its data in a folder of its own. Run under a <see cref="WatchedProcess"/>, so it never outlives the test host;
/// stopped by its own PID. Installing prometheus is the test command's job (scripts/test.sh).
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string PrometheusPath = "/usr/bin/prometheus";

    /// <summary>Debian's prometheus package ships it beside the server.</summary>
    public const string PromtoolPath = "/usr/bin/promtool";

    private readonly WatchedProcess _process;
    private readonly HttpClient _client;

    private PrometheusServer(string folder, int port, WatchedProcess process)
    {
        Folder = folder;
        Port = port;
        _process = process;
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }
    public string Folder { get; }

    public static void EnsureInstalled()
    {
        if (!File.Exists(PrometheusPath))
            throw new InvalidOperationException(
                $"Prometheus is not installed ({PrometheusPath} is missing): run scripts/test.sh as root, or apt-get install prometheus.");
    }

    /// <summary>Starts Prometheus scraping <paramref name="targets"/> (host:port, path /metrics) every second; returns once it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(params string[] targets)
    {
        EnsureInstalled();
        var folder = Directory.CreateTempSubdirectory("postern-prometheus-").FullName;
        var port = DjangoPeer.FreePort();
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, string.Join('\n',
            "global:",
            "  scrape_interval: 1s",
            "  scrape_timeout: 1s",
            "scrape_configs:",
            "  - job_name: postern",
            "    static_configs:",
            $"      - targets: [{string.Join(", ", targets.Select(t => $"'{t}'"))}]",
            ""));
        var process = await WatchedProcess.StartAsync(PrometheusPath,
        [
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            "--log.level=warn",
        ]);
        var server = new PrometheusServer(folder, port, process);
        try
        {
            await server.WaitUntilReadyAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"prometheus exited with code {_process.ExitCode}:\n{_process.Errors}");
            try
            {
                using var response = await _client.GetAsync("/-/ready");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"prometheus on port {Port} was not ready within 60 s:\n{_process.Errors}");
            await Task.Delay(200);
        }
    }

    /// <summary>An instant query through the HTTP API (<c>/api/v1/query</c>): each series' labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string query)
    {
        var answer = await _client.GetFromJsonAsync<JsonElement>("/api/v1/query?query=" + Uri.EscapeDataString(query));
        if (answer.GetProperty("status").GetString() != "success")
            throw new InvalidOperationException($"Prometheus refused '{query}': {answer}");
        return
        [
            .. answer.GetProperty("data").GetProperty("result").EnumerateArray().Select(series => (
                (IReadOnlyDictionary<string, string>)series.GetProperty("metric").EnumerateObject()
                    .ToDictionary(label => label.Name, label => label.Value.GetString() ?? ""),
                double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture))),
        ];
    }

    /// <summary>The value of a query answering one series, once its scrape has happened: polls until it equals <paramref name="expected"/>.</summary>
    /// <returns>The last value seen (the expected one, or what stood when <paramref name="timeout"/> ran out), null if none.</returns>
    public async Task<double?> WaitForValueAsync(string query, double expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        double? last = null;
        while (true)
        {
            var result = await QueryAsync(query);
            last = result.Count == 1 ? result[0].Value : last;
            if (last == expected || DateTime.UtcNow > deadline)
                return last;
            await Task.Delay(250);
        }
    }

    /// <summary>The health of the scrape targets as Prometheus sees them (<c>/api/v1/targets</c>), for failure messages.</summary>
    public async Task<string> TargetsAsync() => await _client.GetStringAsync("/api/v1/targets");

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _process.StopAsync(TimeSpan.FromSeconds(20));
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
