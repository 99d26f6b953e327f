using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Postern.Server.Observability;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The metrics listener (Postern:Metrics:Urls): what it serves and what the public port does not, the names a scrape
/// carries, the counts a real Prometheus reads, and the deploy/ files that use them.
/// </summary>
/// <remarks>
/// Servers in this test process share meter names, so the in-process checks look only at names; the exact counts come
/// from a server in a process of its own.
/// </remarks>
public sealed partial class MetricsTests
{
    private static async Task<(PosternTestServer Server, Uri Metrics)> StartWithMetricsAsync()
    {
        var port = PosternProcess.FreeLoopbackPort();
        var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Metrics:Urls"] = $"http://127.0.0.1:{port}",
        });
        return (server, new Uri($"http://127.0.0.1:{port}"));
    }

    private static async Task<string> ScrapeAsync(Uri metrics)
    {
        using var client = RawHttp.CreateClient(metrics);
        var response = await client.SendAsync(HttpMethod.Get, MetricsOptions.ScrapePath);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        return response.Body;
    }

    /// <summary>Three wrong passwords, one right one, a read as the signed-in user, and a POST without a CSRF token.</summary>
    private static async Task LogInThreeTimesWronglyAndOnceRightlyAsync(HttpClient client)
    {
        var visitor = new Visitor(client);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await visitor.LoginAsync("alice", "not-the-password")).Status);
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("alice", "alice-password")).Status);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/user")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.SendAsync(HttpMethod.Post, "/auth/logout")).Status);
    }

    [Fact]
    public async Task MetricsAreServedOnTheirOwnPortOnlyAndNothingElseIsThere()
    {
        var (server, metrics) = await StartWithMetricsAsync();
        await using var _ = server;
        using var publicClient = server.CreateRawClient();
        using var metricsClient = RawHttp.CreateClient(metrics);

        // The public port (the one nginx forwards) answers /metrics as any unknown path: DRF's 404, no metric in it.
        var onPublic = await publicClient.SendAsync(HttpMethod.Get, "/metrics");
        Assert.Equal(HttpStatusCode.NotFound, onPublic.Status);
        Assert.DoesNotContain("postern_", onPublic.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await publicClient.SendAsync(HttpMethod.Get, "/metrics/")).Status);

        // The metrics port serves the scrape and nothing of the application.
        var scrape = await metricsClient.SendAsync(HttpMethod.Get, "/metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.Status);
        Assert.StartsWith("text/plain", scrape.ContentHeaders.ContentType?.ToString(), StringComparison.Ordinal);
        foreach (var path in new[] { "/auth/csrf", "/api/", "/healthz", "/", "/metrics/x" })
        {
            var other = await metricsClient.SendAsync(HttpMethod.Get, path);
            Assert.Equal(HttpStatusCode.NotFound, other.Status);
            Assert.Empty(other.Body);
        }
        Assert.Equal(HttpStatusCode.NotFound,
            (await metricsClient.SendAsync(HttpMethod.Post, "/metrics", content: RawHttp.Json("{}"))).Status);
    }

    [Fact]
    public async Task AScrapeNamesPosternsInstrumentsAspNetCoresAndTheRuntimes()
    {
        var (server, metrics) = await StartWithMetricsAsync();
        await using var _ = server;
        await server.CreateUserAsync("alice", "alice-password");
        using var client = server.CreateRawClient();
        await LogInThreeTimesWronglyAndOnceRightlyAsync(client);

        var text = await ScrapeAsync(metrics);
        foreach (var expected in new[]
        {
            "postern_logins_total{", "outcome=\"invalid_credentials\"", "outcome=\"succeeded\"",
            "postern_sessions_opened_total", "postern_csrf_failures_total{", "reason=\"token_missing\"",
            "postern_read_cache_hits_total{", "postern_read_cache_misses_total{",
            "postern_password_hashes_total", "postern_password_hash_wait_seconds_bucket", "postern_password_hash_duration_seconds_bucket",
            "postern_db_operation_duration_seconds_bucket{", "operation=\"read\"", "operation=\"write\"",
            "http_server_request_duration_seconds_bucket{", "http_route=\"/auth/login\"", "http_response_status_code=\"401\"",
            "dotnet_process_cpu_time_seconds_total", "dotnet_process_memory_working_set_bytes", "dotnet_gc_collections_total",
        })
            Assert.Contains(expected, text, StringComparison.Ordinal);
        // What a tag may carry: fixed words, never a username or a password.
        Assert.DoesNotContain("alice", text, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAMetricsListenerNothingIsCollected()
    {
        await using var server = await PosternTestServer.StartAsync();
        Assert.Null(server.Services.GetService<MeterProvider>());
        using var client = server.CreateRawClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(HttpMethod.Get, "/metrics")).Status);
    }

    [Fact]
    public async Task AMetricsPortThatIsAlsoThePublicOneIsRefusedAtStart()
    {
        var port = PosternProcess.FreeLoopbackPort();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => Hosting.PosternApplication.BuildAsync(
            new Hosting.HostSettings($"http://127.0.0.1:{port}", Path.Combine(Directory.CreateTempSubdirectory("postern-test-").FullName, "db"))
            {
                Overrides = new Dictionary<string, string?> { ["Postern:Metrics:Urls"] = $"http://0.0.0.0:{port}" },
            }));
        Assert.Contains("a port of its own", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A real Prometheus (Debian's) scrapes a Postern in a process of its own every second: after three wrong passwords and
    /// a right one, its HTTP API reads exactly those counts.
    /// </summary>
    [Fact]
    public async Task PrometheusReadsExactlyTheLoginsMade()
    {
        PrometheusServer.EnsureInstalled();
        var folder = Directory.CreateTempSubdirectory("postern-metrics-").FullName;
        try
        {
            var metricsPort = PosternProcess.FreeLoopbackPort();
            await using var serve = await ServeProcess.StartAsync(folder, Path.Combine(folder, "db.sqlite3"),
                environment: new Dictionary<string, string?> { ["Postern__Metrics__Urls"] = $"http://127.0.0.1:{metricsPort}" },
                extraArgs: "--demo-data");
            await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{metricsPort}");
            using var client = RawHttp.CreateClient(serve.Address);

            await LogInThreeTimesWronglyAndOnceRightlyAsync(client);

            var timeout = TimeSpan.FromSeconds(30);
            var failed = await prometheus.WaitForValueAsync("postern_logins_total{outcome=\"invalid_credentials\"}", 3, timeout);
            Assert.True(failed == 3, $"invalid_credentials: {failed}\n{await prometheus.TargetsAsync()}");
            Assert.Equal(1, await prometheus.WaitForValueAsync("postern_logins_total{outcome=\"succeeded\"}", 1, timeout));
            Assert.Equal(4, await prometheus.WaitForValueAsync("sum(postern_logins_total)", 4, timeout));
            Assert.Equal(1, await prometheus.WaitForValueAsync("postern_sessions_opened_total", 1, timeout));
            Assert.Equal(1, await prometheus.WaitForValueAsync("postern_csrf_failures_total{reason=\"token_missing\"}", 1, timeout));
            Assert.Equal(3, await prometheus.WaitForValueAsync(
                "sum(http_server_request_duration_seconds_count{http_route=\"/auth/login\",http_response_status_code=\"401\"})", 3, timeout));
            // The scrape stays a scrape: its series do not move with time alone.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(3, (await prometheus.QueryAsync("postern_logins_total{outcome=\"invalid_credentials\"}")).Single().Value);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task TheDeployedPrometheusConfigurationIsValid()
    {
        PrometheusServer.EnsureInstalled();
        var config = Path.Combine(RepositoryFiles.Root, "deploy", "prometheus", "prometheus.yml");
        using var promtool = Process.Start(new ProcessStartInfo(PrometheusServer.PromtoolPath, ["check", "config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        Assert.True(promtool.ExitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\b(?:postern|http_server|dotnet|kestrel|aspnetcore)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    /// <summary>
    /// Every metric the Grafana dashboard asks for is one Postern exports: in a scrape, or (for instruments only recorded on
    /// rare events: outages, e-mail failures) one of the Postern meter's instruments as the exporter names them.
    /// </summary>
    [Fact]
    public async Task TheDashboardNamesOnlyMetricsPosternExports()
    {
        var path = Path.Combine(RepositoryFiles.Root, "deploy", "grafana", "dashboards", "postern.json");
        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var expressions = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .Select(target => target.GetProperty("expr").GetString()!)
            .ToList();
        Assert.NotEmpty(expressions);
        var used = expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet();

        var (server, metrics) = await StartWithMetricsAsync();
        await using var _ = server;
        await server.CreateUserAsync("alice", "alice-password");
        using (var client = server.CreateRawClient())
            await LogInThreeTimesWronglyAndOnceRightlyAsync(client);
        var scraped = (await ScrapeAsync(metrics)).Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line.Split('{', ' ')[0])
            .ToHashSet();
        var declared = PrometheusNamesOfPosternInstruments(server.Services.GetRequiredService<PosternMetrics>());

        var unknown = used.Where(name => !scraped.Contains(name) && !declared.Contains(name)).ToList();
        Assert.True(unknown.Count == 0, "The dashboard asks for metrics Postern does not export: " + string.Join(", ", unknown));
        // And it shows each of Postern's own instruments.
        var shown = declared.Where(used.Contains).Select(name => Regex.Replace(name, "_(total|bucket)$", "")).ToHashSet();
        Assert.True(shown.Count >= 14, "Shown: " + string.Join(", ", shown));
    }

    /// <summary>The Postern meter's instruments as the Prometheus exporter names them (dots to underscores, unit and type suffixes).</summary>
    private static HashSet<string> PrometheusNamesOfPosternInstruments(PosternMetrics created)
    {
        GC.KeepAlive(created);
        var names = new HashSet<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name != PosternMetrics.MeterName)
                return;
            var name = instrument.Name.Replace('.', '_') + (instrument.Unit == "s" ? "_seconds" : "");
            if (instrument.GetType().Name.StartsWith("Counter", StringComparison.Ordinal))
                names.Add(name + "_total");
            else
            {
                names.Add(name + "_bucket");
                names.Add(name + "_sum");
                names.Add(name + "_count");
            }
        };
        listener.Start();
        return names;
    }
}
