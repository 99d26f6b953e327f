using System.Globalization;
using System.Net;
using Postern.Client;

namespace Postern.Cli;

/// <summary>
/// A <see cref="PosternSession"/> and the file it lives in. Whatever a command does, the file is
/// written back when the cookies changed (a login, a rotated CSRF token, a refreshed one), so the next
/// invocation carries on from there. A session opened for a host nobody logged into has no file.
/// </summary>
public sealed class SavedSession : IAsyncDisposable
{
    private string _savedCookies;

    private SavedSession(PosternSession session, string? file, bool loaded)
    {
        Session = session;
        File = file;
        Loaded = loaded;
        _savedCookies = loaded ? Fingerprint(session.Cookies) : "";
    }

    public PosternSession Session { get; }

    /// <summary>Where the session is saved; null for a request without one.</summary>
    public string? File { get; }

    /// <summary>Whether it was resumed from a file (so a refusal means the session expired, not that nobody logged in).</summary>
    public bool Loaded { get; }

    /// <summary>Nothing to save: logout removed the file, or a first login failed (a token alone is no session worth a file).</summary>
    public bool Discarded { get; set; }

    /// <summary>
    /// The session for a request to <paramref name="target"/>: the chosen one; else, for an absolute URL,
    /// its host's (or the current one when that is on the same host, else none); for a path, the current one.
    /// </summary>
    public static async Task<SavedSession> OpenAsync(
        SessionStore store, SessionChoice choice, string? target, PosternClientOptions options, CancellationToken ct)
    {
        var absolute = target is null ? null : AbsoluteUrl(target);
        if (store.Chosen(choice) is { } chosen)
        {
            if (!System.IO.File.Exists(chosen))
                throw new UsageException($"no session in {chosen}: run postern login BASE_URL USERNAME {SessionArguments(choice)}");
            var session = await LoadAsync(chosen, options, ct);
            if (absolute is not null && !SameOrigin(absolute, session.Session.BaseAddress))
            {
                await session.DisposeAsync();
                throw new UsageException(
                    $"{absolute.GetLeftPart(UriPartial.Authority)} is not the backend of session {chosen} ({session.Session.BaseAddress})");
            }
            return session;
        }
        if (absolute is not null)
        {
            var hostFile = store.ForHost(absolute);
            if (System.IO.File.Exists(hostFile))
                return await LoadAsync(hostFile, options, ct);
            if (store.Current() is { } current)
            {
                var session = await LoadAsync(current, options, ct);
                if (SameOrigin(absolute, session.Session.BaseAddress))
                    return session;
                await session.DisposeAsync();
            }
            // Nobody logged in there: an anonymous request, like curl's.
            return new SavedSession(new PosternSession(Origin(absolute), options), file: null, loaded: false);
        }
        return store.Current() is { } last
            ? await LoadAsync(last, options, ct)
            : throw new UsageException("not logged in: run postern login BASE_URL USERNAME first (or give an absolute URL)");
    }

    /// <summary>
    /// The session a login goes into: the chosen file or the host's, resumed when it is for the same backend (so the
    /// server replaces the old session).
    /// </summary>
    public static async Task<SavedSession> OpenForLoginAsync(
        SessionStore store, SessionChoice choice, Uri baseAddress, PosternClientOptions options, CancellationToken ct)
    {
        var file = store.Chosen(choice) ?? store.ForHost(baseAddress);
        if (System.IO.File.Exists(file))
        {
            try
            {
                var previous = await LoadAsync(file, options, ct);
                if (previous.Session.BaseAddress == baseAddress)
                    return previous;
                await previous.DisposeAsync();
            }
            catch (PosternException)
            {
                // An unreadable file is about to be replaced anyway.
            }
        }
        return new SavedSession(new PosternSession(baseAddress, options), file, loaded: false);
    }

    private static async Task<SavedSession> LoadAsync(string file, PosternClientOptions options, CancellationToken ct) =>
        new(await PosternSession.LoadAsync(file, options, ct), file, loaded: true);

    /// <summary>Writes the session back if its cookies changed since it was loaded or last saved.</summary>
    public async Task SaveIfChangedAsync(CancellationToken ct = default)
    {
        if (File is null || Discarded)
            return;
        var now = Fingerprint(Session.Cookies);
        if (now == _savedCookies)
            return;
        await Session.SaveAsync(File, ct);
        _savedCookies = now;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await SaveIfChangedAsync();
        }
        finally
        {
            Session.Dispose();
        }
    }

    /// <summary>An http(s) URL, or null for a path (which resolves against the session's backend).</summary>
    public static Uri? AbsoluteUrl(string target) =>
        Uri.TryCreate(target, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    private static Uri Origin(Uri url) => new(url.GetLeftPart(UriPartial.Authority) + "/");

    private static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && a.IdnHost.Equals(b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static string SessionArguments(SessionChoice choice) =>
        choice.Name is not null ? $"--session {choice.Name}" : $"--session-file {choice.File}";

    private static string Fingerprint(CookieContainer jar) =>
        string.Join('\n', jar.GetAllCookies().Where(c => !c.Expired).OrderBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => string.Join(
                ';', c.Name, c.Value, c.Domain, c.Path, c.Expires.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture))));
}
