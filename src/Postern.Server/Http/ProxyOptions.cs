namespace Postern.Server.Http;

/// <summary>Running behind a reverse proxy (<c>Postern:Proxy</c>).</summary>
public sealed class ProxyOptions
{
    public const string Section = "Postern:Proxy";

    /// <summary>
    /// Take the scheme from X-Forwarded-Proto (Django's SECURE_PROXY_SSL_HEADER). Only behind a proxy that
    /// sets it: otherwise a client could claim HTTPS and change which CSRF checks apply.
    /// </summary>
    public bool TrustForwardedProto { get; set; }

    /// <summary>
    /// Take the host from X-Forwarded-Host (Django's USE_X_FORWARDED_HOST). Only behind a proxy that
    /// overwrites it: a client-supplied host would make any Origin look like this site's own.
    /// </summary>
    public bool TrustForwardedHost { get; set; }

    /// <summary>
    /// The proxies whose <c>X-Forwarded-For</c> names the client (addresses or networks: <c>10.0.0.5</c>,
    /// <c>172.16.0.0/12</c>). Read from the right, each trusted hop stepped over, the first other address is the
    /// client's. Without this or <see cref="TrustedProxyCount"/> the client is the socket's address, whatever
    /// <c>X-Forwarded-For</c> a client sends: the address is what failed logins are counted by.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// How many proxies stand in front, when their addresses are not known in advance (Docker networks): the client is
    /// that many entries from the right of <c>X-Forwarded-For</c>. Only where nothing but the proxy reaches Postern.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 16)]
    public int TrustedProxyCount { get; set; }

    public bool TrustsForwardedFor => TrustedProxies.Count > 0 || TrustedProxyCount > 0;

    /// <summary>The trusted proxies as networks (an address is a network of one); a bad entry is an error at start.</summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedNetworks() =>
    [
        .. TrustedProxies.Select(entry =>
        {
            var text = entry.Trim();
            if (System.Net.IPNetwork.TryParse(text, out var network))
                return network;
            if (System.Net.IPAddress.TryParse(text, out var address))
                return new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            throw new Microsoft.Extensions.Options.OptionsValidationException(Section, typeof(ProxyOptions),
                [$"{Section}:TrustedProxies: '{entry}' is neither an address nor a network (10.0.0.5, 172.16.0.0/12)."]);
        }),
    ];
}
