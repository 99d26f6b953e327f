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
}
