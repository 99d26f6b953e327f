using System.Net;

namespace Postern.Client;

/// <summary>
/// The Cookie header a session sends to its own backend, kept between requests. Reading a
/// <see cref="CookieContainer"/> (domain tables, path lists, a new string) costs more than everything else
/// the session adds to a request, and more again with the CPU caches cold after each network wait; and
/// its answer stays the same until a cookie is stored or expires. So the header is read again only when:
/// <list type="bullet">
/// <item>the session stored a cookie (a <c>Set-Cookie</c>, a logout): <see cref="Changed"/>;</item>
/// <item>the earliest expiry among the jar's cookies has passed.</item>
/// </list>
/// It is kept at all only while every cookie is for the whole site (path <c>/</c>, as Django sets them), so
/// that the header does not depend on the request's path; and only while the container has not been handed
/// out: once code outside the session holds it, it can change it unseen, and every request reads it again.
/// </summary>
internal sealed class CookieHeaderCache(CookieContainer jar, bool handedOut)
{
    private sealed record Entry(string Header, DateTime ValidUntilUtc, int Version);

    private Entry? _entry;
    private int _version;
    private volatile bool _handedOut = handedOut;

    /// <summary>The container, for the session's own reads; its own writes are followed by <see cref="Changed"/>.</summary>
    public CookieContainer Jar => jar;

    /// <summary>The container for code outside the session: from now on every request reads it.</summary>
    public CookieContainer HandOut()
    {
        _handedOut = true;
        _entry = null;
        return jar;
    }

    public void Changed() => Interlocked.Increment(ref _version);

    /// <summary>The Cookie header for a request to the session's own origin (same scheme, host and port).</summary>
    public string HeaderFor(Uri uri)
    {
        if (_handedOut)
            return jar.GetCookieHeader(uri);
        // An entry read before a concurrent write carries the older version and is not used again. The system clock, not
        // a TimeProvider: CookieContainer decides expiry by it, and the two must agree on when a cookie is gone.
        var version = Volatile.Read(ref _version);
        if (_entry is { } entry && entry.Version == version && DateTime.UtcNow < entry.ValidUntilUtc)
            return entry.Header;
        var header = jar.GetCookieHeader(uri);
        _entry = SameForEveryPath(out var validUntil) ? new Entry(header, validUntil, version) : null;
        return header;
    }

    private bool SameForEveryPath(out DateTime validUntilUtc)
    {
        validUntilUtc = DateTime.MaxValue;
        foreach (Cookie cookie in jar.GetAllCookies())
        {
            if (cookie.Path is not ("/" or "") || cookie.Version != 0 || cookie.Port.Length > 0)
                return false;
            // An expired cookie is never sent again; a session cookie (no Expires) lasts as long as the jar.
            if (!cookie.Expired && cookie.Expires != DateTime.MinValue && cookie.Expires.ToUniversalTime() < validUntilUtc)
                validUntilUtc = cookie.Expires.ToUniversalTime();
        }
        return true;
    }
}
