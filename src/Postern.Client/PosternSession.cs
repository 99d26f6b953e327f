using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Postern.Client.Profiles;
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
    public bool HasSession => SessionCookie is not null;

    // ---- authentication

    private LoginProfile? _profile;

    /// <summary>
    /// The login profile in use: the one <see cref="PosternClientOptions.LoginMode"/> names, or the one
    /// <see cref="LoginMode.Auto"/> found at login (saved with the session). Before any login, Auto means the seed's.
    /// </summary>
    public LoginMode Mode => Profile.Mode;

    /// <summary>The login page or allauth base the profile uses, when it has one (saved with the session).</summary>
    public string? LoginPageUrl => Profile.LoginUrl;

    private LoginProfile Profile => _profile ??= ProfileFor(_options.LoginMode == LoginMode.Auto ? LoginMode.Seed : _options.LoginMode);

    /// <summary>The profile, found first by <see cref="LoginMode.Auto"/>'s discovery when no login has found it yet.</summary>
    private async Task<LoginProfile> FoundProfileAsync(CancellationToken ct)
    {
        if (_options.LoginMode == LoginMode.Auto && _profile is null)
            _profile = await DiscoverAsync(ct);
        return Profile;
    }

    private LoginProfile ProfileFor(LoginMode mode, string? loginUrl = null)
    {
        LoginProfile profile = mode switch
        {
            LoginMode.AllauthHeadless => new AllauthHeadlessProfile(this, loginUrl ?? _options.LoginPageUrl ?? AllauthHeadlessProfile.DefaultBasePath),
            LoginMode.DjangoForm => new FormProfile(this, mode, loginUrl ?? _options.LoginPageUrl ?? FormProfile.DjangoLoginPath, _options.WhoAmIPath),
            LoginMode.DrfApiAuth => new FormProfile(this, mode, loginUrl ?? _options.LoginPageUrl ?? FormProfile.DrfLoginPath, _options.WhoAmIPath),
            _ => new SeedProfile(this, _options),
        };
        _handler.CsrfSource = profile.CsrfSource;
        return profile;
    }

    /// <summary>
    /// Logs in with the profile <see cref="PosternClientOptions.LoginMode"/> names (or finds one: <see cref="LoginMode.Auto"/>),
    /// keeping the session and the rotated CSRF token. When the backend asks for a second factor, the code comes from
    /// <see cref="PosternClientOptions.TwoFactorCode"/>; without one, the login stays pending and
    /// <see cref="TwoFactorRequiredException"/> says so (finish it with <see cref="CompleteTwoFactorAsync"/>).
    /// </summary>
    /// <exception cref="InvalidCredentialsException">Wrong username or password (the site's own words).</exception>
    /// <exception cref="ThrottledException">Too many attempts: wait <see cref="ThrottledException.RetryAfter"/>.</exception>
    /// <exception cref="NotFoundException">Nothing there to log in with (Auto tried every profile).</exception>
    public async Task LoginAsync(string username, string password, CancellationToken ct = default)
    {
        if (_options.LoginMode == LoginMode.Auto && _profile is null or { Mode: LoginMode.Seed })
            _profile = await DiscoverAsync(ct);
        try
        {
            await Profile.LoginAsync(username, password, ct);
        }
        catch (TwoFactorRequiredException) when (_options.TwoFactorCode is not null)
        {
            var code = await _options.TwoFactorCode(BaseAddress, ct);
            if (string.IsNullOrEmpty(code))
                throw;
            await Profile.CompleteTwoFactorAsync(code, ct);
        }
    }

    /// <summary>Finishes a login that <see cref="TwoFactorRequiredException"/> left pending, with a TOTP or recovery code.</summary>
    /// <exception cref="InvalidCredentialsException">A wrong or spent code (the login stays pending).</exception>
    public Task CompleteTwoFactorAsync(string code, CancellationToken ct = default) => Profile.CompleteTwoFactorAsync(code, ct);

    /// <summary>Confirms the password so that a sensitive action (<see cref="ReauthenticationRequiredException"/>) may go on.</summary>
    public Task ReauthenticateAsync(string password, CancellationToken ct = default) => Profile.ReauthenticateAsync(password, ct);

    /// <summary>
    /// Which profile the backend speaks, asked in the order of <see cref="LoginMode.Auto"/>. Every probe is a GET;
    /// only an unreachable backend fails here, anything else moves on to the next.
    /// </summary>
    private async Task<LoginProfile> DiscoverAsync(CancellationToken ct)
    {
        var tried = new List<string>();
        if (_options.LoginPageUrl is { } page)
        {
            if (await FormProfile.ReadLoginFormAsync(this, page, ct) is not null)
                return ProfileFor(IsDrfLogin(page) ? LoginMode.DrfApiAuth : LoginMode.DjangoForm, page);
            var asAllauth = (AllauthHeadlessProfile)ProfileFor(LoginMode.AllauthHeadless, page);
            if (await asAllauth.ConfigAsync(ct) is not null)
                return asAllauth;
            tried.Add($"a login form or allauth's API at {Resolve(page)}");
        }
        var allauth = (AllauthHeadlessProfile)ProfileFor(LoginMode.AllauthHeadless, AllauthHeadlessProfile.DefaultBasePath);
        if (await allauth.ConfigAsync(ct) is not null)
            return allauth;
        tried.Add($"allauth's {Resolve(AllauthHeadlessProfile.DefaultBasePath + "config")}");
        using (var csrf = await SendPageAsync(HttpMethod.Get, _options.CsrfPath, null, ct))
        {
            if (csrf.IsSuccessStatusCode && CsrfToken is not null)
                return ProfileFor(LoginMode.Seed);
        }
        tried.Add($"{Resolve(_options.CsrfPath)}");
        foreach (var (mode, path) in new[] { (LoginMode.DrfApiAuth, FormProfile.DrfLoginPath), (LoginMode.DjangoForm, FormProfile.DjangoLoginPath) })
        {
            if (await FormProfile.ReadLoginFormAsync(this, path, ct) is not null)
                return ProfileFor(mode, path);
            tried.Add($"{Resolve(path)}");
        }
        throw new NotFoundException($"{BaseAddress}: found no way to log in (tried {string.Join(", ", tried)}); "
            + "name the login page (PosternClientOptions.LoginPageUrl).", HttpStatusCode.NotFound, null)
        { Request = $"GET {BaseAddress}" };
    }

    private bool IsDrfLogin(string page) => Resolve(page).AbsolutePath.EndsWith(FormProfile.DrfLoginPath, StringComparison.Ordinal);

    /// <summary>
    /// Ends the session on the server, the profile's way (the seed's <c>/auth/logout</c>, allauth's <c>DELETE
    /// auth/session</c>, a form site's logout form). A session authenticated by an API token only forgets the token:
    /// revoke it with <see cref="RevokeTokenAsync"/>.
    /// </summary>
    /// <exception cref="LogoutNotConfirmedException">The server answered but kept the session.</exception>
    public async Task LogoutAsync(CancellationToken ct = default)
    {
        if (_handler.ApiTokenKey is not null)
        {
            _handler.ApiTokenKey = null;
            return;
        }
        await Profile.LogoutAsync(ct);
        ForgetSessionCookie();
    }

    /// <summary>Who is signed in (the seed's <c>/auth/user</c>, allauth's <c>data.user</c>, or <see cref="PosternClientOptions.WhoAmIPath"/>).</summary>
    /// <exception cref="NotAuthenticatedException">Nobody.</exception>
    public async Task<CurrentUser> WhoAmIAsync(CancellationToken ct = default) =>
        (await WhoAmIJsonAsync(ct)).Deserialize<CurrentUser>(Json)
        ?? throw new PosternException("The backend described no user.");

    /// <summary>The signed-in user as the backend describes them: the user object itself, without allauth's envelope.</summary>
    public Task<JsonElement> WhoAmIJsonAsync(CancellationToken ct = default) =>
        _handler.ApiTokenKey is not null ? GetJsonAsync(_options.WhoAmIPath ?? EndpointPaths.User, ct) : Profile.WhoAmIAsync(ct);

    internal string? SessionCookie => _handler.Cookies.Jar.GetCookies(BaseAddress)[CookieNames.Session]?.Value is { Length: > 0 } value
        ? value
        : null;

    /// <summary>Whatever the backend said about the cookie, this session is over.</summary>
    internal void ForgetSessionCookie()
    {
        foreach (Cookie cookie in _handler.Cookies.Jar.GetCookies(BaseAddress))
        {
            if (cookie.Name == CookieNames.Session)
                cookie.Expired = true;
        }
        _handler.Cookies.Changed();
    }

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

    /// <summary>
    /// A request as a browser sends it for a page or a form (HTML <c>Accept</c>, never JSON: allauth would answer a form
    /// post as AJAX), with a same-origin <c>Referer</c> when given.
    /// </summary>
    internal async Task<HttpResponseMessage> SendPageAsync(
        HttpMethod method, string urlOrPath, HttpContent? content, CancellationToken ct, Uri? referer = null)
    {
        using var request = new HttpRequestMessage(method, Resolve(urlOrPath)) { Content = content };
        request.Headers.TryAddWithoutValidation("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8");
        request.Headers.Referrer = referer;
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
        SessionFile.SaveAsync(path, new SavedSessionState(BaseAddress, _handler.Cookies.Jar, _handler.ApiTokenKey,
            _profile?.Mode ?? (_options.LoginMode == LoginMode.Auto ? null : _options.LoginMode), _profile?.LoginUrl ?? _options.LoginPageUrl,
            _options.WhoAmIPath), ct);

    /// <summary>Resumes a saved session.</summary>
    public static async Task<PosternSession> LoadAsync(string path, PosternClientOptions? options = null, CancellationToken ct = default)
    {
        var saved = await SessionFile.LoadAsync(path, ct);
        var effective = WithBase(options, saved.BaseAddress);
        effective.ApiToken ??= saved.ApiToken;
        // The profile the login used, unless the caller names another.
        if (effective.LoginMode == LoginMode.Auto && effective.LoginPageUrl is null && saved.Mode is { } mode)
        {
            effective.LoginMode = mode;
            effective.LoginPageUrl ??= saved.LoginUrl;
        }
        effective.WhoAmIPath ??= saved.WhoAmIUrl;
        var cookies = saved.Jar;
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
