using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Postern.Protocol;

namespace Postern.Client;

/// <summary>Who the session belongs to, as <c>/auth/user</c> says.</summary>
public sealed record CurrentUser(
    string Username, string? Email, bool? IsStaff, string? Url, string? FirstName = null, string? LastName = null, bool? EmailVerified = null);

/// <summary>
/// How far a walk through a paginated list has got: pages and items fetched so far, and DRF's <c>count</c> when the
/// list gives one.
/// </summary>
public sealed record PageProgress(int Pages, int Items, int? Count);

/// <summary>
/// One user's session with a Django-style backend (Django, DRF, Postern): its own cookie jar, login and
/// logout, the CSRF token pair on every unsafe request, JSON in and out, link following, pagination,
/// typed errors, and a session file to resume from. Two sessions never share cookies.
/// </summary>
public sealed partial class PosternSession : IDisposable
{
    private readonly HttpClient _http;
    private readonly SessionHandler _handler;
    private readonly PosternClientOptions _options;

    /// <summary>A session with its own connection handler.</summary>
    public PosternSession(Uri baseAddress, PosternClientOptions? options = null)
        : this(WithBase(options, baseAddress), disposeInner: true)
    {
    }

    private PosternSession(PosternClientOptions options, bool disposeInner, CookieContainer? cookies = null)
        : this(options, options.CreateHandler(), disposeInner, new CookieHeaderCache(cookies ?? new CookieContainer(), handedOut: false))
    {
    }

    /// <summary>
    /// A session over a given inner handler (e.g. one from IHttpClientFactory, pooled and shared; cookies stay in this
    /// session).
    /// </summary>
    /// <param name="cookies">A jar to start from; the caller keeps it and may change it, so every request reads it.</param>
    public PosternSession(PosternClientOptions options, HttpMessageHandler inner, bool disposeInner, CookieContainer? cookies = null)
        : this(options, inner, disposeInner, new CookieHeaderCache(cookies ?? new CookieContainer(), handedOut: cookies is not null))
    {
    }

    private PosternSession(PosternClientOptions options, HttpMessageHandler inner, bool disposeInner, CookieHeaderCache cookies)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        BaseAddress = options.BaseAddress ?? throw new ArgumentException("PosternClientOptions.BaseAddress is required.", nameof(options));
        _handler = new SessionHandler(BaseAddress, cookies, options, inner, disposeInner);
        _http = new HttpClient(_handler) { BaseAddress = BaseAddress, Timeout = options.Timeout };
    }

    public Uri BaseAddress { get; }

    /// <summary>The JSON conventions of Django REST Framework: snake_case names.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>This session's cookies (for inspection and persistence; changes made to it are sent from the next request on).</summary>
    public CookieContainer Cookies => _handler.Cookies.HandOut();

    /// <summary>The current CSRF token (the <c>csrftoken</c> cookie), if any.</summary>
    public string? CsrfToken => _handler.CsrfCookie(BaseAddress);

    /// <summary>The API token this session authenticates with, if any (<see cref="WithToken"/>).</summary>
    public string? ApiToken => _handler.ApiTokenKey;

    /// <summary>
    /// Authenticates every request from now on with an API token (<c>Authorization: Token &lt;key&gt;</c>) instead of
    /// cookies: no login, no CSRF token. Returns this session, to chain.
    /// </summary>
    public PosternSession WithToken(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        if (key.Any(char.IsWhiteSpace))
            throw new ArgumentException("An API token has no spaces.", nameof(key));
        _handler.ApiTokenKey = key;
        return this;
    }

    /// <summary>Whether the jar holds a session cookie (it may still have expired server-side).</summary>
    public bool HasSession => _handler.Cookies.Jar.GetCookies(BaseAddress)[CookieNames.Session] is { Value.Length: > 0 };

    // ---- authentication

    /// <summary>
    /// Logs in: bootstraps the CSRF cookie if needed, posts the credentials with the token, keeps the session and the
    /// rotated token.
    /// </summary>
    /// <exception cref="InvalidCredentialsException">Wrong username or password.</exception>
    public async Task LoginAsync(string username, string password, CancellationToken ct = default)
    {
        if (_options.LoginMode == LoginMode.DjangoForm)
        {
            await FormLoginAsync(username, password, ct);
            return;
        }
        if (CsrfToken is null)
        {
            using var csrf = await GetPageAsync(_options.CsrfPath, ct);
            if (_options.LoginMode == LoginMode.Auto && csrf.StatusCode == HttpStatusCode.NotFound)
            {
                await FormLoginAsync(username, password, ct);
                return;
            }
        }
        using var response = await SendRawAsync(HttpMethod.Post, _options.LoginPath, JsonContent.Create(new { username, password }), ct);
        if (_options.LoginMode == LoginMode.Auto && response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            await FormLoginAsync(username, password, ct);
            return;
        }
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw await ErrorMapping.ToExceptionAsync(response, hadSession: false, login: true, ct);
        await ErrorMapping.EnsureSuccessAsync(response, hadSession: false, ct);
    }

    /// <summary>Django's LoginView: GET the form, POST it back with <c>csrfmiddlewaretoken</c>; a 302 means success.</summary>
    private async Task FormLoginAsync(string username, string password, CancellationToken ct)
    {
        using var form = await GetPageAsync(_options.FormLoginPath, ct);
        await ErrorMapping.EnsureSuccessAsync(form, hadSession: false, ct);
        var html = await form.Content.ReadAsStringAsync(ct);
        var token = CsrfField().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups["token"].Value)
            : CsrfToken ?? "";
        var fields = new Dictionary<string, string>
        {
            [FormFields.CsrfToken] = token,
            [FormFields.Username] = username,
            [FormFields.Password] = password,
            ["next"] = "/",
        };
        using var response = await SendRawAsync(HttpMethod.Post, _options.FormLoginPath, new FormUrlEncodedContent(fields), ct);
        if (response.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther && HasSession)
            return;
        if (response.StatusCode == HttpStatusCode.OK)
            throw new InvalidCredentialsException("Please enter a correct username and password.", response.StatusCode, null);
        await ErrorMapping.EnsureSuccessAsync(response, hadSession: false, ct);
    }

    [GeneratedRegex("name=[\"']csrfmiddlewaretoken[\"'] value=[\"'](?<token>[^\"']+)[\"']")]
    private static partial Regex CsrfField();

    /// <summary>
    /// Ends the session server-side (POST with the token pair, or GET if the backend only takes that). A session
    /// authenticated by an API token only forgets the token: revoke it with <see cref="RevokeTokenAsync"/>.
    /// </summary>
    public async Task LogoutAsync(CancellationToken ct = default)
    {
        if (_handler.ApiTokenKey is not null)
        {
            _handler.ApiTokenKey = null;
            return;
        }
        using var response = await SendRawAsync(HttpMethod.Post, _options.LogoutPath, null, ct);
        if (response.StatusCode == HttpStatusCode.MethodNotAllowed)
        {
            using var viaGet = await SendRawAsync(HttpMethod.Get, _options.LogoutPath, null, ct);
            await ErrorMapping.EnsureSuccessAsync(viaGet, hadSession: false, ct);
        }
        else
        {
            await ErrorMapping.EnsureSuccessAsync(response, hadSession: false, ct);
        }
        // Whatever the backend said about the cookie, this session is over.
        foreach (Cookie cookie in _handler.Cookies.Jar.GetCookies(BaseAddress))
        {
            if (cookie.Name == CookieNames.Session)
                cookie.Expired = true;
        }
        _handler.Cookies.Changed();
    }

    /// <summary>Who is signed in.</summary>
    /// <exception cref="NotAuthenticatedException">Nobody.</exception>
    public Task<CurrentUser> WhoAmIAsync(CancellationToken ct = default) => GetAsync<CurrentUser>(_options.WhoAmIPath, ct);

    // ---- JSON requests

    public Task<T> GetAsync<T>(string urlOrPath, CancellationToken ct = default) => SendJsonAsync<T>(HttpMethod.Get, urlOrPath, null, ct);

    public Task<JsonElement> GetJsonAsync(string urlOrPath, CancellationToken ct = default) => GetAsync<JsonElement>(urlOrPath, ct);

    public Task<T> PostAsync<T>(string urlOrPath, object? body, CancellationToken ct = default) =>
        SendJsonAsync<T>(HttpMethod.Post, urlOrPath, body, ct);

    public Task<T> PutAsync<T>(string urlOrPath, object? body, CancellationToken ct = default) =>
        SendJsonAsync<T>(HttpMethod.Put, urlOrPath, body, ct);

    public Task<T> PatchAsync<T>(string urlOrPath, object? body, CancellationToken ct = default) =>
        SendJsonAsync<T>(HttpMethod.Patch, urlOrPath, body, ct);

    public async Task DeleteAsync(string urlOrPath, CancellationToken ct = default)
    {
        using var response = await SendCheckedAsync(HttpMethod.Delete, urlOrPath, null, ct);
    }

    /// <summary>Follows a link field (<c>url</c> by default) of a JSON object.</summary>
    public Task<T> FollowAsync<T>(JsonElement resource, string field = "url", CancellationToken ct = default) =>
        resource.TryGetProperty(field, out var link) && link.GetString() is { } url
            ? GetAsync<T>(url, ct)
            : throw new ArgumentException($"The resource has no '{field}' link.", nameof(resource));

    /// <summary>
    /// Every item of a paginated list, following the pages to the end: DRF's <c>next</c> (page-number
    /// and limit/offset pagination alike), or a <c>Link: &lt;...&gt;; rel="next"</c> header on a plain array.
    /// </summary>
    public IAsyncEnumerable<T> PaginateAsync<T>(string urlOrPath, CancellationToken ct = default) =>
        PaginateAsync<T>(urlOrPath, progress: null, ct);

    /// <inheritdoc cref="PaginateAsync{T}(string, CancellationToken)"/>
    /// <param name="progress">Told after each page, e.g. to show how far a long walk has got.</param>
    public async IAsyncEnumerable<T> PaginateAsync<T>(
        string urlOrPath, IProgress<PageProgress>? progress, [EnumeratorCancellation] CancellationToken ct = default)
    {
        string? next = urlOrPath;
        var pages = 0;
        var items = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (next is not null && seen.Add(next))
        {
            using var response = await SendCheckedAsync(HttpMethod.Get, next, null, ct);
            var page = await response.Content.ReadFromJsonAsync<JsonElement>(Json, ct);
            var pageItems = page.ValueKind == JsonValueKind.Array ? page
                : page.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Array ? results
                : throw new PosternException($"{next} is not a paginated list.");
            pages++;
            items += pageItems.GetArrayLength();
            progress?.Report(new PageProgress(pages, items,
                page.ValueKind == JsonValueKind.Object && page.TryGetProperty("count", out var count) && count.TryGetInt32(out var total)
                    ? total
                    : null));
            foreach (var item in pageItems.EnumerateArray())
                yield return item.Deserialize<T>(Json)!;
            next = page.ValueKind == JsonValueKind.Object && page.TryGetProperty("next", out var link)
                && link.ValueKind == JsonValueKind.String
                ? link.GetString()
                : NextFromLinkHeader(response);
        }
    }

    private static string? NextFromLinkHeader(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
            return null;
        foreach (var part in values.SelectMany(v => v.Split(',')))
        {
            var match = NextLink().Match(part);
            if (match.Success)
                return match.Groups["url"].Value;
        }
        return null;
    }

    [GeneratedRegex("<(?<url>[^>]+)>\\s*;\\s*rel=\"?next\"?")]
    private static partial Regex NextLink();

    /// <summary>Sends a request through this session (cookies, token, Referer, retry) without interpreting the answer.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(
        HttpMethod method, string urlOrPath, HttpContent? content, CancellationToken ct = default)
    {
        using var request = JsonRequest(method, urlOrPath, content);
        return await SendAsync(request, ct);
    }

    private HttpRequestMessage JsonRequest(HttpMethod method, string urlOrPath, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, Resolve(urlOrPath)) { Content = content };
        request.Headers.TryAddWithoutValidation("Accept", "application/json"); // sent as it is: nothing to parse per request
        return request;
    }

    /// <summary>A GET as a browser would send it (no JSON Accept), for the CSRF bootstrap and Django's login form.</summary>
    private async Task<HttpResponseMessage> GetPageAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Resolve(path));
        return await SendAsync(request, ct);
    }

    /// <summary>
    /// Every request of the session goes through here, so that no answer at all is always a
    /// <see cref="TransportException"/>.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new TransportException($"Cannot reach {request.RequestUri}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TransportException($"{request.RequestUri} did not answer within {_options.Timeout.TotalSeconds:0} s.", e);
        }
    }

    private async Task<T> SendJsonAsync<T>(HttpMethod method, string urlOrPath, object? body, CancellationToken ct)
    {
        using var response = await SendCheckedAsync(method, urlOrPath, body, ct);
        if (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0)
            return default!;
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    /// <summary>
    /// Sends, maps failures to typed exceptions, and logs in again once on an expired session when credentials are
    /// configured.
    /// </summary>
    private async Task<HttpResponseMessage> SendCheckedAsync(HttpMethod method, string urlOrPath, object? body, CancellationToken ct)
    {
        using var request = JsonRequest(method, urlOrPath, Content(body));
        var response = await SendAsync(request, ct);
        return response.IsSuccessStatusCode ? response : await RecoverAsync(response, method, urlOrPath, body, ct);
    }

    private async Task<HttpResponseMessage> RecoverAsync(
        HttpResponseMessage failed, HttpMethod method, string urlOrPath, object? body, CancellationToken ct)
    {
        var error = await ErrorMapping.ToExceptionAsync(
            failed, SessionHandler.CarriedSessionCookie(failed.RequestMessage), login: false, ct);
        failed.Dispose();
        if (error is SessionExpiredException && _options.Credentials is { } credentials && await credentials(BaseAddress, ct) is { } login)
        {
            await LoginAsync(login.Username, login.Password, ct);
            var retried = await SendRawAsync(method, urlOrPath, Content(body), ct);
            if (retried.IsSuccessStatusCode)
                return retried;
            var second = await ErrorMapping.ToExceptionAsync(
                retried, SessionHandler.CarriedSessionCookie(retried.RequestMessage), login: false, ct);
            retried.Dispose();
            throw second;
        }
        throw error;
    }

    /// <summary>
    /// The body serialized up front: sent with a Content-Length (Django reads no chunked body), and sendable again for
    /// a CSRF retry.
    /// </summary>
    private static ByteArrayContent? Content(object? body)
    {
        if (body is null)
            return null;
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), Json));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
        return content;
    }

    /// <summary>A relative path resolves against the backend; an absolute URL is used as it is.</summary>
    public Uri Resolve(string urlOrPath) =>
        // A path ("/api/...", a file: URI on Unix) goes straight to the backend, without being parsed twice.
        !urlOrPath.StartsWith('/') && Uri.TryCreate(urlOrPath, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https"
            ? absolute
            : new Uri(BaseAddress, urlOrPath);

    // ---- persistence

    /// <summary>Saves the cookie jar to a JSON file readable by its owner only (mode 0600).</summary>
    /// <remarks>A session authenticated by an API token saves the token too: the file is then as secret as the token.</remarks>
    public Task SaveAsync(string path, CancellationToken ct = default) =>
        SessionFile.SaveAsync(path, BaseAddress, _handler.Cookies.Jar, _handler.ApiTokenKey, ct);

    /// <summary>Resumes a saved session.</summary>
    public static async Task<PosternSession> LoadAsync(string path, PosternClientOptions? options = null, CancellationToken ct = default)
    {
        var (baseAddress, cookies, apiToken) = await SessionFile.LoadAsync(path, ct);
        var effective = WithBase(options, baseAddress);
        effective.ApiToken ??= apiToken;
        return new PosternSession(effective, disposeInner: true, cookies);
    }

    private static PosternClientOptions WithBase(PosternClientOptions? options, Uri baseAddress)
    {
        var copy = options is null ? new PosternClientOptions() : (PosternClientOptions)options.MemberwiseCloneOptions();
        copy.BaseAddress = baseAddress;
        return copy;
    }

    public void Dispose()
    {
        _http.Dispose();
    }
}
