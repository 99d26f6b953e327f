using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Audit;
using Postern.Server.Http;
using Postern.Server.Storage;

namespace Postern.Server.Sessions;

/// <summary>
/// The session of one request: resolved lazily from the <c>sessionid</c> cookie, changed by login and
/// logout, and turned into cookie changes when the response starts (Django's SessionMiddleware).
/// </summary>
public sealed class RequestSession(HttpContext context, SessionManager manager, string? cookieValue)
{
    private Task<SessionWithUser?>? _resolving;
    private bool _extended;
    private SessionRecord? _opened;
    private bool _ended;

    /// <summary>Whether anything looked at the session; such responses vary by Cookie.</summary>
    public bool Accessed { get; private set; }

    public string? CookieValue => cookieValue;

    /// <summary>
    /// The user this request was signed in as, if something already looked (the request log's user id): never a read of
    /// its own. After a logout, the user who logged out; after a login, the one who logged in.
    /// </summary>
    internal User? KnownUser => _resolving is { IsCompletedSuccessfully: true } resolved ? resolved.Result?.User : null;

    /// <summary>The signed-in user, or null for anonymous requests.</summary>
    public async ValueTask<User?> GetUserAsync() => (await GetCurrentAsync())?.User;

    /// <summary>The current session and its user, or null.</summary>
    public async ValueTask<SessionWithUser?> GetCurrentAsync()
    {
        Accessed = true;
        if (_ended)
            return null;
        if (_resolving is null)
        {
            _resolving = cookieValue is null ? Task.FromResult<SessionWithUser?>(null) : ResolveAsync(cookieValue);
        }
        return await _resolving;
    }

    private async Task<SessionWithUser?> ResolveAsync(string key)
    {
        var (found, extended) = await manager.ResolveAsync(key, context.RequestAborted);
        _extended = extended;
        return found;
    }

    /// <summary>Signs <paramref name="user"/> in with a brand-new session, ending the one the request carried.</summary>
    /// <returns>
    /// False if the user was deleted since the password was checked: nothing changed, the login fails as for an unknown
    /// user.
    /// </returns>
    public async Task<bool> LoginAsync(User user)
    {
        Accessed = true;
        var userAgent = context.Request.Headers.UserAgent.ToString();
        try
        {
            (_opened, var trimmed) = await manager.OpenAsync(user, cookieValue, userAgent.Length == 0 ? null : userAgent, context.RequestAborted);
            if (trimmed > 0)
                await context.RequestServices.GetRequiredService<AuditTrail>().RecordAsync(context, AuditEventKinds.SessionsTrimmed, user,
                    $"Ended the {trimmed} oldest session{(trimmed == 1 ? "" : "s")}: at most {manager.MaxPerUser} are kept.");
        }
        catch (MissingReferenceException)
        {
            return false;
        }
        _resolving = Task.FromResult<SessionWithUser?>(new SessionWithUser(_opened, user));
        _ended = false;
        return true;
    }

    /// <summary>
    /// Ends the session server-side; the response expires the cookie. Only once the store has ended it: a logout refused
    /// with a 503 (the database or Redis down) leaves the browser its cookie, so that it can try again, rather than
    /// forgetting a session that still works (Django's 500 deletes the cookie there).
    /// </summary>
    /// <returns>The user whose session ended, if the request had one.</returns>
    public async Task<User?> LogoutAsync()
    {
        Accessed = true;
        var user = (await GetCurrentAsync())?.User;
        var key = _opened?.Key ?? cookieValue;
        if (key is not null)
            await manager.EndAsync(key, context.RequestAborted);
        if (user is not null)
            manager.CountLogout();
        _opened = null;
        _ended = true;
        return user;
    }

    /// <summary>The cookie change this response carries, decided as Django's SessionMiddleware.process_response does.</summary>
    internal (string? SetKey, bool Delete) CookieChange()
    {
        if (_opened is not null)
            return (_opened.Key, false);
        if (_extended && !_ended && cookieValue is not null)
            return (cookieValue, false);
        var cookieIsDead = _ended
            || (Accessed && _resolving is { IsCompletedSuccessfully: true, Result: null })
            // Django treats a key shorter than 8 characters as no key at all: the cookie goes, looked at or not.
            || cookieValue is { Length: < 8 };
        return (null, cookieValue is not null && cookieIsDead);
    }
}

public static class RequestSessionHttpContextExtensions
{
    public static RequestSession GetRequestSession(this HttpContext context) =>
        context.Features.Get<RequestSession>() ?? throw new InvalidOperationException("SessionMiddleware is not in the pipeline.");
}

/// <summary>Attaches a <see cref="RequestSession"/> to each request and writes the session cookie when the response starts.</summary>
public sealed class SessionMiddleware(
    RequestDelegate next, SessionManager manager, IOptions<ServerSessionOptions> options, TimeProvider time)
{
    private readonly ServerSessionOptions _options = options.Value;
    private readonly CookieAttributes _attributes = new(
        options.Value.CookieDomain, options.Value.CookiePath, HttpOnly: true, options.Value.CookieSecure, options.Value.CookieSameSite,
        options.Value.CookiePartitioned);

    public Task InvokeAsync(HttpContext context)
    {
        var session = new RequestSession(context, manager, RequestCookies.Find(context.Request, _options.CookieName));
        context.Features.Set(session);
        context.Response.OnStarting(static state =>
        {
            var (self, context, session) = ((SessionMiddleware, HttpContext, RequestSession))state;
            self.WriteCookie(context.Response, session);
            return Task.CompletedTask;
        }, (this, context, session));
        return next(context);
    }

    private void WriteCookie(HttpResponse response, RequestSession session)
    {
        if (!session.Accessed && session.CookieValue is not { Length: < 8 })
            return;
        var (setKey, delete) = session.CookieChange();
        if (setKey is not null && response.StatusCode < 500)
            response.Headers.Append("Set-Cookie", _options.ExpireAtBrowserClose
                ? SetCookieHeader.SetUntilBrowserCloses(_options.CookieName, setKey, _attributes)
                : SetCookieHeader.Set(_options.CookieName, setKey, manager.AgeSeconds, _attributes, time.GetUtcNow()));
        else if (delete)
            response.Headers.Append("Set-Cookie", SetCookieHeader.Delete(_options.CookieName, _attributes));
        VaryHeader.Add(response, "Cookie");
    }
}
