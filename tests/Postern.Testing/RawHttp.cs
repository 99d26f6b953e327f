using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Postern.Testing;

/// <summary>One <c>Set-Cookie</c> line, parsed: name, value and attributes (names lowercased).</summary>
public sealed record SetCookie(string Name, string Value, IReadOnlyDictionary<string, string> Attributes, string Raw)
{
    public bool IsDeletion => Value is "" or "\"\"" && Attributes.TryGetValue("max-age", out var age) && age == "0";
    public bool HttpOnly => Attributes.ContainsKey("httponly");
    public bool Secure => Attributes.ContainsKey("secure");
    public string? MaxAge => Attributes.GetValueOrDefault("max-age");
    public string? Path => Attributes.GetValueOrDefault("path");
    public string? SameSite => Attributes.GetValueOrDefault("samesite");

    public static SetCookie Parse(string raw)
    {
        var parts = raw.Trim().Split(';');
        var first = parts[0].Trim();
        var equals = first.IndexOf('=', StringComparison.Ordinal);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parts.Skip(1))
        {
            var p = part.Trim();
            var eq = p.IndexOf('=', StringComparison.Ordinal);
            attributes[(eq < 0 ? p : p[..eq]).ToLowerInvariant()] = eq < 0 ? "" : p[(eq + 1)..];
        }
        return new SetCookie(first[..equals], first[(equals + 1)..], attributes, raw);
    }
}

/// <summary>A response read whole: status, headers, body, cookies set.</summary>
public sealed class RawResponse
{
    public required HttpStatusCode Status { get; init; }
    public required HttpResponseHeaders Headers { get; init; }
    public required HttpContentHeaders ContentHeaders { get; init; }
    public required string Body { get; init; }
    public required IReadOnlyList<SetCookie> Cookies { get; init; }

    public int StatusCode => (int)Status;
    public string? ContentType => ContentHeaders.ContentType?.ToString();
    public SetCookie? Cookie(string name) => Cookies.LastOrDefault(c => c.Name == name);
    public string? Header(string name) =>
        Headers.TryGetValues(name, out var values) || ContentHeaders.TryGetValues(name, out values) ? string.Join(", ", values) : null;

    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Body);
        return document.RootElement.Clone();
    }

    public string? Detail => Json().TryGetProperty("detail", out var detail) ? detail.GetString() : null;
}

/// <summary>Raw HTTP for tests: no cookie handling, no redirects, the request exactly as built.</summary>
public static class RawHttp
{
    /// <param name="trustedRoot">For HTTPS with a test certificate: the only root trusted (host name and expiry still checked).</param>
    public static HttpClient CreateClient(Uri baseAddress, X509Certificate2? trustedRoot = null)
    {
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        };
        if (trustedRoot is not null)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.Add(trustedRoot);
            handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
        }
        return new HttpClient(handler)
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>
    /// A raw client whose connections leave from <paramref name="source"/> (any 127.x.y.z on Linux is loopback): a machine
    /// of its own as the server, or a proxy in front of it, sees it.
    /// </summary>
    public static HttpClient CreateClientFrom(Uri baseAddress, System.Net.IPAddress source)
    {
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                try
                {
                    socket.Bind(new System.Net.IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public static async Task<RawResponse> SendAsync(this HttpClient client, HttpMethod method, string path,
        IEnumerable<(string Name, string Value)>? headers = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        foreach (var (name, value) in headers ?? [])
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
                request.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var lines) ? lines.Select(SetCookie.Parse).ToList() : [];
        return new RawResponse
        {
            Status = response.StatusCode,
            Headers = response.Headers,
            ContentHeaders = response.Content.Headers,
            Body = body,
            Cookies = cookies,
        };
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
}

/// <summary>
/// A browser-like cookie jar for scenario tests: remembers what Set-Cookie says (deletions included)
/// and renders the Cookie header; tests may also plant or corrupt cookies by hand.
/// </summary>
public sealed class CookieJar
{
    private readonly Dictionary<string, string> _cookies = new(StringComparer.Ordinal);

    public string? this[string name]
    {
        get => _cookies.GetValueOrDefault(name);
        set
        {
            if (value is null)
                _cookies.Remove(name);
            else
                _cookies[name] = value;
        }
    }

    /// <summary>What the jar holds now, copied: a later response does not change it.</summary>
    public IReadOnlyDictionary<string, string> Snapshot() => new Dictionary<string, string>(_cookies, StringComparer.Ordinal);

    public void Absorb(RawResponse response)
    {
        foreach (var cookie in response.Cookies)
            this[cookie.Name] = cookie.IsDeletion ? null : cookie.Value;
    }

    public (string, string)[] Header() =>
        _cookies.Count == 0 ? [] : [("Cookie", string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}")))];
}
