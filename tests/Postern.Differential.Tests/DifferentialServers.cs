using Postern.Testing;

namespace Postern.Differential.Tests;

/// <summary>A Django peer and a Postern server configured alike, each with a raw client.</summary>
public sealed class ServerPair(DjangoPeer peer, PosternTestServer postern) : IAsyncDisposable
{
    public DjangoPeer Peer { get; } = peer;
    public PosternTestServer Postern { get; } = postern;
    public HttpClient PeerClient { get; } = peer.CreateRawClient();
    public HttpClient PosternClient { get; } = postern.CreateRawClient();

    public static async Task<ServerPair> StartAsync(
        IDictionary<string, string>? peerEnvironment, IDictionary<string, string?>? posternSettings)
    {
        var peerStarting = DjangoPeer.StartAsync(PeerKind.Modern, peerEnvironment);
        var postern = await PosternTestServer.StartAsync(posternSettings);
        try
        {
            await postern.SeedLikeDjangoPeerAsync();
            return new ServerPair(await peerStarting, postern);
        }
        catch
        {
            await postern.DisposeAsync();
            if (peerStarting.IsCompletedSuccessfully)
                await peerStarting.Result.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        PeerClient.Dispose();
        PosternClient.Dispose();
        await Peer.DisposeAsync();
        await Postern.DisposeAsync();
    }
}

/// <summary>
/// The servers every differential test talks to, started once: the modern Django peer and a Postern
/// seeded with the same users and trusting the same origins, over plain HTTP; and a second pair that
/// trusts <c>X-Forwarded-Proto</c> and marks cookies Secure, for the HTTPS-only rules (Referer checks).
/// </summary>
public sealed class DifferentialServers : IAsyncLifetime
{
    private ServerPair? _http;
    private ServerPair? _https;

    public ServerPair For(Transport transport) =>
        (transport == Transport.HttpsBehindProxy ? _https : _http) ?? throw new InvalidOperationException("The servers are not started.");

    /// <summary>CSRF_TRUSTED_ORIGINS of both pairs: an exact origin, a wildcard domain, a plain-HTTP origin.</summary>
    public static readonly IReadOnlyList<string> TrustedOrigins =
        ["https://app.example.com", "https://*.trusted.example", "http://plain.example"];

    public async Task InitializeAsync()
    {
        // The peers take seconds to start; start all four servers at once.
        var http = ServerPair.StartAsync(PeerEnvironment(https: false), PosternSettings(https: false));
        var https = ServerPair.StartAsync(PeerEnvironment(https: true), PosternSettings(https: true));
        try
        {
            _http = await http;
            _https = await https;
        }
        catch
        {
            await DisposeStartedAsync(http, https);
            throw;
        }
    }

    private static Dictionary<string, string> PeerEnvironment(bool https)
    {
        var environment = new Dictionary<string, string> { ["DJANGO_BACKEND_TRUSTED_ORIGINS"] = string.Join(',', TrustedOrigins) };
        if (https)
            environment["DJANGO_BACKEND_HTTPS"] = "1";
        return environment;
    }

    private static Dictionary<string, string?> PosternSettings(bool https)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < TrustedOrigins.Count; i++)
            settings[$"Postern:Csrf:TrustedOrigins:{i}"] = TrustedOrigins[i];
        if (https)
        {
            settings["Postern:Proxy:TrustForwardedProto"] = "true";
            settings["Postern:Csrf:CookieSecure"] = "true";
            settings["Postern:Sessions:CookieSecure"] = "true";
        }
        return settings;
    }

    private static async Task DisposeStartedAsync(params Task<ServerPair>[] starting)
    {
        foreach (var task in starting)
        {
            try
            {
                await (await task).DisposeAsync();
            }
            catch (InvalidOperationException)
            {
                // This one never started; nothing to stop.
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_http is not null)
            await _http.DisposeAsync();
        if (_https is not null)
            await _https.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class DifferentialServersCollectionDefinition : ICollectionFixture<DifferentialServers>
{
    public const string Name = "Django peer and Postern";
}
