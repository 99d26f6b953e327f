using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;

namespace Postern.Server.Observability;

/// <summary>
/// Metrics and logs, added to the builder and the pipeline by <c>PosternApplication</c>: the <see cref="PosternMetrics"/>
/// instruments (always; free while nobody listens), and when <c>Postern:Metrics:Urls</c> is set, OpenTelemetry's SDK with
/// its Prometheus exporter on a listener of its own; the console log's format; the request log.
/// </summary>
/// <remarks>
/// The exporter is OpenTelemetry's (OpenTelemetry.Exporter.Prometheus.AspNetCore, the project's own Prometheus exporter,
/// still labelled beta) rather than prometheus-net: the instruments stay plain .NET meters, and ASP.NET Core's and the
/// runtime's own meters come along without adapters. It is served by Kestrel on a second endpoint rather than by its
/// HttpListener sibling: one HTTP server in the process, the same limits, and the listener is chosen by its port before any
/// of Postern's middleware runs (so its Host needs no AllowedHosts entry, and Prometheus may scrape by container address).
/// </remarks>
public static class ObservabilitySetup
{
    /// <summary>The meters exported: Postern's, ASP.NET Core's (http.server.request.duration, Kestrel's connections) and the runtime's.</summary>
    public static readonly string[] ExportedMeters =
    [
        PosternMetrics.MeterName,
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        // .NET's own: process CPU time and working set, GC collections, heap sizes and pause time, thread pool, exceptions.
        "System.Runtime",
    ];

    public static void AddObservability(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<PosternMetrics>();
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section);
        services.AddOptions<LogFormatOptions>().BindConfiguration(LogFormatOptions.Section);

        var format = builder.Configuration[LogFormatOptions.Section + ":Format"];
        if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(json =>
            {
                json.IncludeScopes = true;
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            });
        }
        else if (string.IsNullOrEmpty(format) || string.Equals(format, "text", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddSimpleConsole(text => text.IncludeScopes = true);
        }
        else
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(LogFormatOptions.Section, typeof(LogFormatOptions),
                [$"{LogFormatOptions.Section}:Format: '{format}' is neither text nor json."]);
        }

        var metrics = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        var metricsUrls = metrics.UrlList();
        if (metricsUrls.Length == 0)
            return;
        var ports = metrics.Ports();
        var publicUrls = PublicUrls(builder.Configuration);
        if (publicUrls.Any(url => ports.Contains(BindingAddress.Parse(url).Port)))
            throw new Microsoft.Extensions.Options.OptionsValidationException(MetricsOptions.Section, typeof(MetricsOptions),
                [$"{MetricsOptions.Section}:Urls: the metrics listener needs a port of its own, not one of {string.Join(";", publicUrls)}."]);
        // Kestrel listens on both: the public URLs and the metrics listener's (told apart by port in UseObservability).
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = string.Join(';', publicUrls.Concat(metricsUrls)),
        });
        AddExporter(services);
    }

    /// <summary>
    /// Apart, and never inlined: OpenTelemetry's assemblies are loaded when a method naming them is compiled, so without a
    /// metrics listener they are never loaded at all (resident memory per instance).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AddExporter(IServiceCollection services) =>
        services.AddOpenTelemetry().WithMetrics(meters => meters
            .AddMeter(ExportedMeters)
            .AddPrometheusExporter(exporter =>
            {
                exporter.ScrapeEndpointPath = MetricsOptions.ScrapePath;
                // Every scrape sees the counts of that moment (the default keeps an answer for 300 ms).
                exporter.ScrapeResponseCacheDurationMilliseconds = 0;
            }));

    /// <summary>
    /// The public URLs as the host would choose them: <c>urls</c> (--urls, ASPNETCORE_URLS), else <c>http_ports</c> and
    /// <c>https_ports</c> (ASPNETCORE_HTTP_PORTS, which the .NET container images set), else Kestrel's default.
    /// </summary>
    private static string[] PublicUrls(ConfigurationManager configuration)
    {
        static string[] Split(string? list) => (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (Split(configuration["urls"]) is { Length: > 0 } urls)
            return urls;
        string[] ports =
        [
            .. Split(configuration["http_ports"]).Select(port => $"http://*:{port}"),
            .. Split(configuration["https_ports"]).Select(port => $"https://*:{port}"),
        ];
        return ports.Length > 0 ? ports : ["http://localhost:5000"];
    }

    /// <summary>
    /// First in the pipeline: connections to the metrics listener get the scrape at <see cref="MetricsOptions.ScrapePath"/> and a
    /// 404 for anything else, never the application; then the request log (<see cref="RequestLoggingMiddleware"/>).
    /// </summary>
    public static void UseObservability(WebApplication app)
    {
        var ports = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MetricsOptions>>().Value.Ports();
        if (ports.Count > 0)
            app.MapWhen(context => ports.Contains(context.Connection.LocalPort), MetricsListener);
        app.UseMiddleware<RequestLoggingMiddleware>();
    }

    /// <summary>The metrics listener's pipeline: the scrape, or a 404 (apart, for the reason <see cref="AddExporter"/> says).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void MetricsListener(IApplicationBuilder metrics)
    {
        metrics.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
            HttpMethods.IsGet(context.Request.Method) && context.Request.Path == MetricsOptions.ScrapePath);
        metrics.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }
}
