using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Postern.Server.Observability;

/// <summary>Where Prometheus scrapes this instance (<c>Postern:Metrics</c>).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Postern:Metrics";

    /// <summary>The scrape path on the metrics listener; every other path there is a 404.</summary>
    public const string ScrapePath = "/metrics";

    /// <summary>
    /// The metrics listener's URLs, separated by <c>;</c> (<c>http://0.0.0.0:9464</c>): a port of its own that serves only
    /// <see cref="ScrapePath"/>, so that the proxy, which forwards only the public port, never exposes it. Empty (the
    /// default): no metrics are collected at all.
    /// </summary>
    public string? Urls { get; set; }

    public string[] UrlList() =>
        (Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The ports of <see cref="Urls"/>: connections to them are the metrics listener's.</summary>
    public IReadOnlySet<int> Ports() => UrlList().Select(PortOf).ToHashSet();

    internal static int PortOf(string url)
    {
        try
        {
            var port = BindingAddress.Parse(url).Port;
            if (port > 0)
                return port;
        }
        catch (FormatException)
        {
        }
        throw new Microsoft.Extensions.Options.OptionsValidationException(Section, typeof(MetricsOptions),
            [$"{Section}:Urls: '{url}' is not a URL with a port of its own (http://0.0.0.0:9464)."]);
    }

    internal static string PortText(int port) => port.ToString(CultureInfo.InvariantCulture);
}

/// <summary>How the console log is written (<c>Postern:Logging</c>).</summary>
public sealed class LogFormatOptions
{
    public const string Section = "Postern:Logging";

    /// <summary><c>text</c> (the default: ASP.NET Core's simple console lines) or <c>json</c> (one JSON object a line).</summary>
    public string Format { get; set; } = "text";
}
