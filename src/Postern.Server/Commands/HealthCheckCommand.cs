namespace Postern.Server.Commands;

/// <summary>
/// <c>Postern.Server healthcheck [--url URL]</c>: one GET, exit 0 on a 200, 1 otherwise. The aspnet runtime
/// image carries neither curl nor wget, so the container's HEALTHCHECK runs the server's own binary.
/// </summary>
public static class HealthCheckCommand
{
    public const string DefaultUrl = "http://127.0.0.1:8000/healthz";

    /// <summary>Below Docker's default HEALTHCHECK timeout (30 s), so the command reports rather than being killed.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string address, TextWriter error, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (!Uri.TryCreate(address, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"--url must be an absolute http(s) URL, not '{address}'.");
            return PosternCommandLine.UsageExitCode;
        }
        using var client = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync(url, ct);
            if (response.StatusCode == System.Net.HttpStatusCode.OK)
                return 0;
            await error.WriteLineAsync($"{url}: HTTP {(int)response.StatusCode}");
            return 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"{url}: {e.Message}");
            return 1;
        }
    }
}
