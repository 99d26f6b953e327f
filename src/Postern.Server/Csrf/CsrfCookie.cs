using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Http;

namespace Postern.Server.Csrf;

/// <summary>
/// The CSRF secret of one request: what the <c>csrftoken</c> cookie carried, and what the response
/// must send back. Mirrors Django's META["CSRF_COOKIE"] / CSRF_COOKIE_NEEDS_UPDATE.
/// </summary>
public sealed class CsrfCookie
{
    internal CsrfCookie(string? cookieValue)
    {
        CookieValue = cookieValue;
        if (cookieValue is null)
            return;
        CookieError = CsrfToken.CheckFormat(cookieValue);
        if (CookieError == CsrfTokenFormatError.None)
        {
            CookieSecret = CsrfToken.SecretFromCookieValue(cookieValue);
            Secret = CookieSecret;
        }
        else
        {
            // A malformed cookie is replaced on this very response, whatever the request (Django's process_request).
            Rotate();
        }
    }

    /// <summary>The raw cookie value, if the request had one.</summary>
    public string? CookieValue { get; }

    /// <summary>Why the request's cookie is unusable, if it is.</summary>
    public CsrfTokenFormatError CookieError { get; }

    /// <summary>The secret the request's cookie carried (unmasked), if well-formed.</summary>
    public string? CookieSecret { get; }

    /// <summary>The secret the client will hold after this response.</summary>
    public string? Secret { get; private set; }

    /// <summary>Whether this response must send the cookie.</summary>
    public bool NeedsUpdate { get; private set; }

    /// <summary>
    /// Django's <c>get_token</c>: a freshly masked token of the current secret (created if none), and the cookie
    /// re-sent.
    /// </summary>
    public string GetToken()
    {
        Secret ??= CsrfToken.NewSecret();
        NeedsUpdate = true;
        return CsrfToken.Mask(Secret);
    }

    /// <summary>Django's <c>rotate_token</c>, done at login: tokens from before are worthless afterwards.</summary>
    public void Rotate()
    {
        Secret = CsrfToken.NewSecret();
        NeedsUpdate = true;
    }
}

public static class CsrfCookieHttpContextExtensions
{
    public static CsrfCookie GetCsrfCookie(this HttpContext context) =>
        context.Features.Get<CsrfCookie>() ?? throw new InvalidOperationException("CsrfCookieMiddleware is not in the pipeline.");
}

/// <summary>Reads the <c>csrftoken</c> cookie for every request and writes it back when the request's handling asked for it.</summary>
public sealed class CsrfCookieMiddleware(RequestDelegate next, IOptions<CsrfOptions> options, TimeProvider time)
{
    private readonly CsrfOptions _options = options.Value;
    private readonly CookieAttributes _attributes = new(
        options.Value.CookieDomain, options.Value.CookiePath, HttpOnly: false, options.Value.CookieSecure, options.Value.CookieSameSite,
        options.Value.CookiePartitioned);

    public Task InvokeAsync(HttpContext context)
    {
        var cookie = new CsrfCookie(RequestCookies.Find(context.Request, _options.CookieName));
        context.Features.Set(cookie);
        context.Response.OnStarting(static state =>
        {
            var (self, context, cookie) = ((CsrfCookieMiddleware, HttpContext, CsrfCookie))state;
            if (cookie.NeedsUpdate && cookie.Secret is not null)
            {
                context.Response.Headers.Append("Set-Cookie", SetCookieHeader.Set(
                    self._options.CookieName, cookie.Secret, self._options.CookieAgeSeconds, self._attributes, self.NowUtc()));
                VaryHeader.Add(context.Response, "Cookie");
            }
            return Task.CompletedTask;
        }, (this, context, cookie));
        return next(context);
    }

    private DateTimeOffset NowUtc() => time.GetUtcNow();
}
