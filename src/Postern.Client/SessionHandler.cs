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
internal sealed class SessionHandler(Uri baseAddress, CookieContainer jar, PosternClientOptions options) : DelegatingHandler
{
    private static readonly HttpRequestOptionsKey<bool> IsRetry = new("Postern.IsRetry");

    public CookieContainer Jar => jar;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("A request needs a URI.");
        if (!SameOrigin(uri, baseAddress))
        {
            if (options.CrossOrigin == CrossOriginPolicy.Refuse)
                throw new CrossOriginException($"{uri.GetLeftPart(UriPartial.Authority)} is not the backend's origin ({baseAddress.GetLeftPart(UriPartial.Authority)}); not following.");
            request.Headers.Remove("Cookie");
            request.Headers.Remove(HeaderNames.CsrfToken);
            request.Headers.Referrer = null;
            return await base.SendAsync(request, ct);
        }

        var unsafeMethod = !SafeMethods.Contains(request.Method.Method);
        if (unsafeMethod && request.Content is not null)
            await request.Content.LoadIntoBufferAsync(ct); // so that it can be sent again after a token refresh
        var response = await SendWithCredentialsAsync(request, uri, unsafeMethod, ct);
        if (!unsafeMethod || response.StatusCode != HttpStatusCode.Forbidden || request.Options.TryGetValue(IsRetry, out _)
            || !await IsCsrfFailureAsync(response, ct))
            return response;

        // The token may have been rotated or the cookie replaced: fetch a fresh one and try once more.
        response.Dispose();
        await RefreshCsrfCookieAsync(ct);
        using var retry = Clone(request);
        retry.Options.Set(IsRetry, true);
        return await SendWithCredentialsAsync(retry, uri, unsafeMethod, ct);
    }

    private async Task<HttpResponseMessage> SendWithCredentialsAsync(HttpRequestMessage request, Uri uri, bool unsafeMethod, CancellationToken ct)
    {
        request.Headers.Remove("Cookie");
        var cookies = jar.GetCookieHeader(uri);
        if (cookies.Length > 0)
            request.Headers.TryAddWithoutValidation("Cookie", cookies);
        if (unsafeMethod)
        {
            request.Headers.Remove(HeaderNames.CsrfToken);
            if (CsrfCookie(uri) is { } token)
                request.Headers.TryAddWithoutValidation(HeaderNames.CsrfToken, token);
            // Django refuses unsafe HTTPS requests without Origin unless the Referer is a page of the same site.
            if (uri.Scheme == Uri.UriSchemeHttps && request.Headers.Referrer is null)
                request.Headers.Referrer = new Uri(baseAddress.GetLeftPart(UriPartial.Authority) + "/");
        }
        var response = await base.SendAsync(request, ct);
        if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var header in setCookies)
                StoreCookie(uri, header);
        }
        return response;
    }

    private void StoreCookie(Uri uri, string header)
    {
        try
        {
            jar.SetCookies(uri, header.Trim());
        }
        catch (CookieException)
        {
            // A cookie the jar cannot hold (odd attributes) is not ours to keep.
        }
    }

    public string? CsrfCookie(Uri uri) => jar.GetCookies(uri)[CookieNames.Csrf]?.Value is { Length: > 0 } value ? value : null;

    private async Task RefreshCsrfCookieAsync(CancellationToken ct)
    {
        foreach (var path in new[] { options.CsrfPath, options.FormLoginPath })
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
        return body.Contains("CSRF Failed", StringComparison.Ordinal) || body.Contains("CSRF verification failed", StringComparison.Ordinal);
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
}
