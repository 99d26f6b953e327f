using System.ComponentModel.DataAnnotations;
using Postern.Protocol;

namespace Postern.Server.Hosting;

/// <summary>Where the data lives (<c>Postern:Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Postern:Storage";

    /// <summary>A SQLite file path, or a PostgreSQL URL <c>postgres://user:password@host:port/name</c>. <c>--db</c> and <c>POSTERN_DB</c> set it too.</summary>
    [Required]
    public string Database { get; set; } = "postern.sqlite3";
}

/// <summary>Signing and hashing secrets (<c>Postern</c>); the same on every instance.</summary>
public sealed class SecretOptions
{
    public const string Section = "Postern";

    /// <summary>Keys the session auth hash. When empty, one is generated once and kept in the database, so every instance sharing it agrees.</summary>
    public string? SecretKey { get; set; }
}

/// <summary>The CSRF cookie and origin checks (<c>Postern:Csrf</c>), Django's CSRF_* settings.</summary>
public sealed class CsrfOptions
{
    public const string Section = "Postern:Csrf";

    [Required]
    public string CookieName { get; set; } = CookieNames.Csrf;

    /// <summary>Django's CSRF_COOKIE_AGE: 52 weeks.</summary>
    [Range(1, int.MaxValue)]
    public int CookieAgeSeconds { get; set; } = 31_449_600;

    public string? CookieDomain { get; set; }
    public string CookiePath { get; set; } = "/";
    public bool CookieSecure { get; set; }
    public string CookieSameSite { get; set; } = "Lax";

    /// <summary>Django's CSRF_TRUSTED_ORIGINS: <c>https://app.example.com</c> or <c>https://*.example.com</c>.</summary>
    public List<string> TrustedOrigins { get; set; } = [];
}

/// <summary>The session cookie and lifetime (<c>Postern:Sessions</c>), Django's SESSION_* settings.</summary>
public sealed class ServerSessionOptions
{
    public const string Section = "Postern:Sessions";

    [Required]
    public string CookieName { get; set; } = CookieNames.Session;

    /// <summary>Django's SESSION_COOKIE_AGE: 2 weeks. Sessions expire this long after login, whatever the activity.</summary>
    [Range(1, int.MaxValue)]
    public int AgeSeconds { get; set; } = 1_209_600;

    public string? CookieDomain { get; set; }
    public string CookiePath { get; set; } = "/";
    public bool CookieSecure { get; set; }
    public string CookieSameSite { get; set; } = "Lax";
}

/// <summary>Logins, passwords and logout (<c>Postern:Accounts</c>).</summary>
public sealed class AccountOptions
{
    public const string Section = "Postern:Accounts";

    /// <summary>PBKDF2 iterations of new hashes; Django 5.2's 1,000,000 by default. Hashes with other counts are upgraded at login.</summary>
    [Range(1, 100_000_000)]
    public int PasswordIterations { get; set; } = DjangoPasswordHash.Django52Iterations;

    /// <summary>How many password hashes may run at once; the rest wait, so logins cannot starve other requests of CPU.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentHashes { get; set; } = Environment.ProcessorCount;

    /// <summary>The seed logs out with GET. False answers GET with 405, so a cross-site image cannot log users out.</summary>
    public bool LogoutAllowsGet { get; set; } = true;
}

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

/// <summary>Request limits (<c>Postern:Limits</c>).</summary>
public sealed class LimitOptions
{
    public const string Section = "Postern:Limits";

    /// <summary>Larger bodies are refused with 413 before they are read.</summary>
    [Range(1024, int.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 1_048_576;
}

/// <summary>The hypermedia API (<c>Postern:Api</c>).</summary>
public sealed class ApiOptions
{
    public const string Section = "Postern:Api";

    /// <summary>DRF's PAGE_SIZE.</summary>
    [Range(1, 10_000)]
    public int PageSize { get; set; } = 10;

    /// <summary>The largest <c>?page_size=</c> a client may ask for.</summary>
    [Range(1, 10_000)]
    public int MaxPageSize { get; set; } = 100;

    /// <summary>The OpenAPI document and the reference page over it (<c>Postern:Api:Schema</c>).</summary>
    public ApiSchemaOptions Schema { get; set; } = new();
}

/// <summary>The OpenAPI document at <c>/api/schema/</c> and the reference page at <c>/api/docs/</c> (<c>Postern:Api:Schema</c>).</summary>
public sealed class ApiSchemaOptions
{
    /// <summary>False: neither path exists (404), for a deployment that does not publish its API's description.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>Redis (<c>Postern:Redis</c>): lets instances that share a PostgreSQL database cache what they read.</summary>
public sealed class RedisOptions
{
    public const string Section = "Postern:Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>redis:6379</c>. <c>--redis</c> and <c>POSTERN_REDIS</c> set it too.</summary>
    public string? Configuration { get; set; }
}

/// <summary>The in-process read cache (<c>Postern:Cache</c>).</summary>
public sealed class CacheOptions
{
    public const string Section = "Postern:Cache";

    /// <summary>
    /// Cache sessions, users and groups in memory. Takes effect on SQLite (which reports every commit, from any process)
    /// and on PostgreSQL with Redis (which carries a change counter between instances); PostgreSQL alone always reads the database.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Cached results per instance; a full cache starts over.</summary>
    [Range(1, 10_000_000)]
    public int MaxEntries { get; set; } = 50_000;

    /// <summary>How long a cached result may be kept even when no change is seen: the bound on staleness if Redis is cut off from one instance only.</summary>
    [Range(1, 3600)]
    public int MaxAgeSeconds { get; set; } = 30;
}
