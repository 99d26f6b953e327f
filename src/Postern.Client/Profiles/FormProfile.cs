using System.Net;
using System.Text.Json;
using Postern.Protocol;

namespace Postern.Client.Profiles;

/// <summary>
/// A login form, posted as a browser posts it: Django's <c>LoginView</c>, allauth's <c>/accounts/login/</c> (field
/// <c>login</c>), DRF's <c>/api-auth/login/</c> (<see cref="LoginMode.DrfApiAuth"/>). The form is read from the page
/// (<see cref="HtmlLoginForm"/>), sent without a JSON <c>Accept</c> (allauth would take it for AJAX) and with a
/// same-origin <c>Referer</c>. Success is a redirect away from the form with a session; failure is the form again, and
/// its own error text is the message. A redirect to a one-time-code form (allauth's <c>/accounts/2fa/authenticate/</c>)
/// is a pending two-factor login.
/// </summary>
internal sealed class FormProfile(PosternSession session, LoginMode mode, string loginUrl, string? whoAmIUrl) : LoginProfile(session)
{
    /// <summary>Django's default <c>LOGIN_URL</c>, and allauth's.</summary>
    public const string DjangoLoginPath = "/accounts/login/";

    /// <summary>DRF's browsable API login (<c>rest_framework.urls</c>).</summary>
    public const string DrfLoginPath = "/api-auth/login/";

    private const int MaxRedirects = 10;

    /// <summary>Where the pending two-factor form is, once the password was accepted.</summary>
    private Uri? _twoFactorPage;

    public override LoginMode Mode => mode;

    public override string LoginUrl => loginUrl;

    public override string CsrfSource => loginUrl;

    /// <summary>The login form at <paramref name="url"/>, or null when the page has none (or is no page).</summary>
    public static async Task<HtmlLoginForm?> ReadLoginFormAsync(PosternSession session, string url, CancellationToken ct)
    {
        using var page = await session.SendPageAsync(HttpMethod.Get, url, null, ct);
        if (page.StatusCode != HttpStatusCode.OK || page.Content.Headers.ContentType?.MediaType != "text/html")
            return null;
        return HtmlLoginForm.FindLogin(await page.Content.ReadAsStringAsync(ct), page.RequestMessage!.RequestUri!);
    }

    public override async Task LoginAsync(string username, string password, CancellationToken ct)
    {
        var pageUrl = Session.Resolve(loginUrl);
        using var page = await Session.SendPageAsync(HttpMethod.Get, loginUrl, null, ct);
        await ErrorMapping.EnsureSuccessAsync(page, hadSession: false, ct);
        var form = HtmlLoginForm.FindLogin(await page.Content.ReadAsStringAsync(ct), pageUrl)
            ?? throw new NotFoundException($"GET {pageUrl}: the page has no login form (no form with a password input).",
                HttpStatusCode.NotFound, null)
            { Request = $"GET {pageUrl}" };
        var before = Session.SessionCookie;
        var fields = form.Fill((form.UsernameField ?? "username", username), (form.PasswordField, password),
            (FormFields.CsrfToken, CsrfValue(form)));
        using var answer = await Session.SendPageAsync(HttpMethod.Post, form.Action.ToString(), new FormUrlEncodedContent(fields), ct, pageUrl);
        await FinishAsync(answer, form.Action, before, ct);
    }

    public override async Task CompleteTwoFactorAsync(string code, CancellationToken ct)
    {
        var pageUrl = _twoFactorPage ?? throw new NotAuthenticatedException("No two-factor login is pending in this session.", null, null);
        using var page = await Session.SendPageAsync(HttpMethod.Get, pageUrl.ToString(), null, ct);
        await ErrorMapping.EnsureSuccessAsync(page, hadSession: true, ct);
        var form = HtmlLoginForm.FindCode(await page.Content.ReadAsStringAsync(ct), pageUrl)
            ?? throw new NotAuthenticatedException($"GET {pageUrl}: no two-factor form there (the pending login has ended).", page.StatusCode, null);
        var before = Session.SessionCookie;
        var fields = form.Fill((form.CodeField, code), (FormFields.CsrfToken, CsrfValue(form)));
        using var answer = await Session.SendPageAsync(HttpMethod.Post, form.Action.ToString(), new FormUrlEncodedContent(fields), ct, pageUrl);
        await FinishAsync(answer, form.Action, before, ct);
    }

    /// <summary>The form's own token; else the cookie's (Django takes either; the cookie's is the one that rotates).</summary>
    private string CsrfValue(HtmlLoginForm form) =>
        form.Hidden.FirstOrDefault(h => h.Key == FormFields.CsrfToken).Value ?? Session.CsrfToken ?? "";

    /// <summary>
    /// Reads the answer to a posted login or code form: the form again is a refusal (with its error text); a redirect is
    /// followed to where it lands, which is either a code form (two-factor pending) or the site (signed in).
    /// </summary>
    private async Task FinishAsync(HttpResponseMessage answer, Uri action, string? sessionBefore, CancellationToken ct)
    {
        if (answer.StatusCode == HttpStatusCode.OK)
        {
            var html = await answer.Content.ReadAsStringAsync(ct);
            var errors = HtmlLoginForm.Errors(html);
            throw new InvalidCredentialsException(
                errors.Count > 0 ? string.Join(" ", errors) : "The login form was shown again: the site refused the login.",
                answer.StatusCode, errors.Count > 0 ? errors[0] : null)
            { Request = ErrorMapping.RequestLine(answer) };
        }
        if (!IsRedirect(answer))
            throw await ErrorMapping.ToExceptionAsync(answer, hadSession: false, login: false, ct);
        var landing = await FollowAsync(answer, ct);
        if (landing.Form is { } codeForm)
        {
            _twoFactorPage = landing.Url;
            throw new TwoFactorRequiredException($"{ErrorMapping.RequestLine(answer)}: two-factor authentication required "
                + $"(the site asks for a code at {landing.Url}).", answer.StatusCode, null)
            { Request = ErrorMapping.RequestLine(answer) };
        }
        _twoFactorPage = null;
        if (!Session.HasSession || (Session.SessionCookie == sessionBefore && landing.Url.AbsolutePath == action.AbsolutePath))
            throw new InvalidCredentialsException($"{ErrorMapping.RequestLine(answer)}: the site redirected to {landing.Url} without "
                + "signing in.", answer.StatusCode, null)
            { Request = ErrorMapping.RequestLine(answer) };
    }

    /// <summary>Follows same-origin redirects with GETs to the page they end on, and reads any one-time-code form there.</summary>
    private async Task<(Uri Url, HtmlLoginForm? Form)> FollowAsync(HttpResponseMessage redirect, CancellationToken ct)
    {
        var url = redirect.RequestMessage!.RequestUri!;
        var location = redirect.Headers.Location;
        for (var hops = 0; location is not null && hops < MaxRedirects; hops++)
        {
            url = new Uri(url, location);
            if (!SessionHandler.SameOrigin(url, Session.BaseAddress))
                return (url, null);
            using var page = await Session.SendPageAsync(HttpMethod.Get, url.ToString(), null, ct);
            if (!IsRedirect(page))
            {
                var html = page.StatusCode == HttpStatusCode.OK && page.Content.Headers.ContentType?.MediaType == "text/html"
                    ? await page.Content.ReadAsStringAsync(ct)
                    : "";
                return (url, html.Length > 0 ? HtmlLoginForm.FindCode(html, url) : null);
            }
            location = page.Headers.Location;
        }
        return (url, null);
    }

    public override async Task<JsonElement> WhoAmIAsync(CancellationToken ct)
    {
        if (whoAmIUrl is not null)
            return await UserFromAsync(whoAmIUrl, ct);
        // A form site names no "who am I" URL; allauth's headless session and the seed's /auth/user say it where they exist.
        foreach (var candidate in new[] { AllauthHeadlessProfile.DefaultBasePath + "auth/session", EndpointPaths.User })
        {
            try
            {
                return await UserFromAsync(candidate, ct);
            }
            catch (NotFoundException)
            {
            }
            catch (PosternException e) when (e.Status is HttpStatusCode.MethodNotAllowed)
            {
            }
        }
        throw new NotFoundException($"{Session.Resolve(loginUrl)}: this site names no URL that says who is signed in; "
            + "log in again with --whoami-url (PosternClientOptions.WhoAmIPath), e.g. an API endpoint that returns the user.",
            HttpStatusCode.NotFound, null);
    }

    /// <summary>
    /// The logout URL beside the login page (<c>.../login/</c> → <c>.../logout/</c>, as Django, allauth and DRF name
    /// them): its confirmation form posted if it shows one, else a POST with the token.
    /// </summary>
    public override async Task LogoutAsync(CancellationToken ct)
    {
        var logoutUrl = LogoutUrl();
        var pageUrl = Session.Resolve(logoutUrl);
        using var page = await Session.SendPageAsync(HttpMethod.Get, logoutUrl, null, ct);
        if (IsRedirect(page) && !Session.HasSession)
            return; // Django 3.2's LogoutView (DRF's too) ends the session on GET.
        var form = page.StatusCode == HttpStatusCode.OK
            ? HtmlLoginForm.FindPost(await page.Content.ReadAsStringAsync(ct), pageUrl, action => action.AbsolutePath == pageUrl.AbsolutePath)
            : null;
        var fields = form is null
            ? [KeyValuePair.Create(FormFields.CsrfToken, Session.CsrfToken ?? "")]
            : form.Fill((FormFields.CsrfToken, form.Hidden.FirstOrDefault(h => h.Key == FormFields.CsrfToken).Value ?? Session.CsrfToken ?? ""));
        using var answer = await Session.SendPageAsync(HttpMethod.Post, (form?.Action ?? pageUrl).ToString(), new FormUrlEncodedContent(fields), ct,
            pageUrl);
        if (!IsRedirect(answer))
            await ErrorMapping.EnsureSuccessAsync(answer, hadSession: true, ct);
        EnsureSessionEnded(answer);
    }

    private string LogoutUrl()
    {
        var path = Session.Resolve(loginUrl).AbsolutePath;
        return path.EndsWith("/login/", StringComparison.Ordinal) ? path[..^"login/".Length] + "logout/"
            : path.EndsWith("/login", StringComparison.Ordinal) ? path[..^"login".Length] + "logout"
            : "/accounts/logout/";
    }
}
