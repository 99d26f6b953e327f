using System.Net;
using System.Net.Http.Headers;
using Postern.Protocol;

namespace Postern.Client;

/// <summary>
/// One session's side of every request: its own cookie jar, the CSRF token copied from the
/// <c>csrftoken</c> cookie into <c>X-CSRFToken</c> on unsafe requests, a same-origin <c>Referer</c> over
/// HTTPS (Django's strict Referer check), and one token refresh + retry when the backend still says
/// the CSRF check failed. Credentials never leave the backend's origin.
/// </summary>
internal sealed class SessionHandler(
    Uri baseAddress, CookieHeaderCache cookies, PosternClientOptions options, HttpMessageHandler inner, bool disposeInner)
    : DelegatingHandler(inner)
{
    private static readonly HttpRequestOptionsKey<bool> IsRetry = new("Postern.IsRetry");

    public CookieHeaderCache Cookies => cookies;

    /// <summary>The API token every request to the backend carries instead of cookies; null for a cookie session.</summary>
    public string? ApiTokenKey { get; set; } = options.ApiToken;

    /// <summary>Where the login profile gets a fresh <c>csrftoken</c> cookie (the seed's <c>/auth/csrf</c>, allauth's config, a login page).</summary>
    public string? CsrfSource { get; set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("A request needs a URI.");
        if (!SameOrigin(uri, baseAddress))
        {
            if (options.CrossOrigin == CrossOriginPolicy.Refuse)
                throw new CrossOriginException(
                    $"{uri.GetLeftPart(UriPartial.Authority)} is not the backend's origin ("
                    + $"{baseAddress.GetLeftPart(UriPartial.Authority)}); not following.");
            request.Headers.Remove("Cookie");
            request.Headers.Remove(HeaderNames.CsrfToken);
            request.Headers.Authorization = null;
            request.Headers.Referrer = null;
            return base.SendAsync(request, ct);
        }
        if (ApiTokenKey is { } key)
        {
            // A token stands alone: no cookie, so no CSRF token either (the backend checks none for a token request).
            request.Headers.Remove("Cookie");
            request.Headers.Remove(HeaderNames.CsrfToken);
            request.Headers.TryAddWithoutValidation("Authorization", ApiToken.HeaderValue(key));
            return base.SendAsync(request, ct);
        }
        // A safe request is never refused for CSRF, so it needs no retry.
        return SafeMethods.Contains(request.Method.Method)
            ? SendWithCredentialsAsync(request, uri, unsafeMethod: false, ct)
            : SendUnsafeAsync(request, uri, ct);
    }

    private async Task<HttpResponseMessage> SendUnsafeAsync(HttpRequestMessage request, Uri uri, CancellationToken ct)
    {
        // So that it can be sent again after a token refresh; content that holds its bytes already can.
        if (request.Content is not (null or ByteArrayContent or ReadOnlyMemoryContent))
            await request.Content.LoadIntoBufferAsync(ct);
        var response = await SendWithCredentialsAsync(request, uri, unsafeMethod: true, ct);
        if (response.StatusCode != HttpStatusCode.Forbidden
            || request.Options.TryGetValue(IsRetry, out _)
            || !await IsCsrfFailureAsync(response, ct))
            return response;

        // The token may have been rotated or the cookie replaced: fetch a fresh one and try once more.
        response.Dispose();
        await RefreshCsrfCookieAsync(ct);
        using var retry = Clone(request);
        retry.Options.Set(IsRetry, true);
        return await SendWithCredentialsAsync(retry, uri, unsafeMethod: true, ct);
    }

    private async Task<HttpResponseMessage> SendWithCredentialsAsync(
        HttpRequestMessage request, Uri uri, bool unsafeMethod, CancellationToken ct)
    {
        // At most one look into the jar per request: the token is read from the Cookie header being sent.
        request.Headers.Remove("Cookie");
        var cookieHeader = cookies.HeaderFor(uri);
        if (cookieHeader.Length > 0)
            request.Headers.TryAddWithoutValidation("Cookie", cookieHeader);
        if (unsafeMethod)
        {
            request.Headers.Remove(HeaderNames.CsrfToken);
            if (CookieValue(cookieHeader, CookieNames.Csrf) is { } token)
                request.Headers.TryAddWithoutValidation(HeaderNames.CsrfToken, token);
            // Django refuses unsafe HTTPS requests without Origin unless the Referer is a page of the same site.
            if (uri.Scheme == Uri.UriSchemeHttps && request.Headers.Referrer is null)
                request.Headers.Referrer = new Uri(baseAddress.GetLeftPart(UriPartial.Authority) + "/");
        }
        var response = await base.SendAsync(request, ct);
        if (response.Headers.NonValidated.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var header in setCookies)
                StoreCookie(uri, header);
            cookies.Changed();
        }
        return response;
    }

    private void StoreCookie(Uri uri, string header)
    {
        try
        {
            cookies.Jar.SetCookies(uri, header.Trim());
        }
        catch (CookieException)
        {
            // A cookie the jar cannot hold (odd attributes) is not ours to keep.
        }
    }

    public string? CsrfCookie(Uri uri) => cookies.Jar.GetCookies(uri)[CookieNames.Csrf]?.Value is { Length: > 0 } value ? value : null;

    /// <summary>Whether <paramref name="request"/> went with a session cookie: a refusal then means the session has ended.</summary>
    public static bool CarriedSessionCookie(HttpRequestMessage? request) =>
        request is not null && request.Headers.NonValidated.TryGetValues("Cookie", out var headers)
        && headers.Any(header => CookieValue(header, CookieNames.Session) is not null);

    /// <summary>
    /// The value of the first cookie named <paramref name="name"/> in a Cookie header (matched as CookieCollection
    /// matches names), null if there is none or it is empty; split at <c>;</c> as Django's <c>parse_cookie</c> does.
    /// </summary>
    private static string? CookieValue(string cookieHeader, string name)
    {
        foreach (var range in cookieHeader.AsSpan().Split(';'))
        {
            var pair = cookieHeader.AsSpan(range).Trim();
            var equals = pair.IndexOf('=');
            if (equals > 0 && pair[..equals].TrimEnd().Equals(name, StringComparison.OrdinalIgnoreCase))
                return pair[(equals + 1)..].Trim() is { Length: > 0 } value ? value.ToString() : null;
        }
        return null;
    }

    private async Task RefreshCsrfCookieAsync(CancellationToken ct)
    {
        foreach (var path in new[] { CsrfSource, options.CsrfPath }.OfType<string>().Distinct())
        {
            using var refresh = new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, path));
            refresh.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
            using var response = await SendWithCredentialsAsync(refresh, refresh.RequestUri!, unsafeMethod: false, ct);
            if (response.IsSuccessStatusCode && CsrfCookie(baseAddress) is not null)
                return;
        }
    }

    /// <summary>DRF's JSON (<c>CSRF Failed: ...</c>) or Django's HTML page (<c>CSRF verification failed</c>).</summary>
    private static async Task<bool> IsCsrfFailureAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await response.Content.LoadIntoBufferAsync(ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return body.Contains("CSRF Failed", StringComparison.Ordinal)
            || body.Contains("CSRF verification failed", StringComparison.Ordinal);
    }

    private static HttpRequestMessage Clone(HttpRequestMessage request)
    {
        var clone = new HttpRequestMessage(request.Method, request.RequestUri) { Content = request.Content, Version = request.Version };
        foreach (var header in request.Headers)
            clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        return clone;
    }

    public static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme.Equals(b.Scheme, StringComparison.OrdinalIgnoreCase)
        && a.Host.Equals(b.Host, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;

    /// <summary>A shared (pooled) connection handler outlives the session.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposeInner)
            base.Dispose(disposing);
    }
}
