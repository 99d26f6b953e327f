using System.Net;
using System.Text.Json;
using Postern.Protocol;

namespace Postern.Bench;

/// <summary>
/// One request of a load, sent by hand before wrk runs it: it must answer 200 with the JSON the load
/// expects, so the numbers measure the intended work (wrk itself only counts statuses of 400 and more).
/// </summary>
public static class ResponseCheck
{
    /// <summary>The body with the server's own origin replaced, for comparing servers: a problem, or the normalised body.</summary>
    public static async Task<(string? Problem, string Body)> RunAsync(RunningServer server, Load load, CancellationToken ct = default)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = server.Process.BaseAddress,
            Timeout = TimeSpan.FromMinutes(1),
        };
        var session = server.SessionFor(load.Credentials);
        using var request = new HttpRequestMessage(load.Method, load.Path);
        if (session.Cookie.Length > 0)
            request.Headers.Add("Cookie", session.Cookie);
        if (load.Body is not null)
        {
            request.Headers.Add(HeaderNames.CsrfToken, session.CsrfToken);
            request.Content = new StringContent(load.Body, System.Text.Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        var origin = server.Process.BaseAddress.GetLeftPart(UriPartial.Authority);
        var normalised = body.Replace(origin, "ORIGIN", StringComparison.Ordinal);
        var what = $"{server.Kind.Title()}: {load.Method} {load.Path}";
        if (response.StatusCode != HttpStatusCode.OK)
            return ($"{what} answered {(int)response.StatusCode}: {Shorten(body)}", normalised);
        try
        {
            using var document = JsonDocument.Parse(body);
            return (load.Check(document.RootElement) is { } problem ? $"{what}: {problem}: {Shorten(body)}" : null, normalised);
        }
        catch (JsonException)
        {
            return ($"{what} answered no JSON: {Shorten(body)}", normalised);
        }
    }

    private static string Shorten(string body) => body.Length > 300 ? body[..300] + "..." : body;
}
