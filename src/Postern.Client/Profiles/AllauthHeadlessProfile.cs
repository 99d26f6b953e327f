using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Postern.Client.Profiles;

/// <summary>
/// django-allauth's headless API for browsers (<c>/_allauth/browser/v1/</c>): <c>config</c> (which also sets the
/// <c>csrftoken</c> cookie), <c>auth/login</c>, <c>auth/session</c> (GET: who; DELETE: logout, whose success is a
/// 401 "now signed out"), <c>auth/2fa/authenticate</c> for the <c>mfa_authenticate</c> flow, <c>auth/reauthenticate</c>,
/// <c>auth/password/change</c> and <c>auth/password/request</c>. Every answer repeats its status inside; errors are
/// <c>{"errors": [{"message", "code", "param"}]}</c> (read by <see cref="ErrorMapping"/>).
/// </summary>
internal sealed class AllauthHeadlessProfile(PosternSession session, string basePath) : LoginProfile(session)
{
    /// <summary>allauth's browser client, as allauth.headless mounts it under <c>/_allauth/</c>.</summary>
    public const string DefaultBasePath = "/_allauth/browser/v1/";

    private JsonElement? _config;

    public override LoginMode Mode => LoginMode.AllauthHeadless;

    public override string? LoginUrl => basePath;

    public override string CsrfSource => Url("config");

    private string Url(string endpoint) => basePath.TrimEnd('/') + "/" + endpoint;

    /// <summary>
    /// allauth's <c>config</c>, or null when the site has none (no allauth.headless there). Read once: it also sets the
    /// CSRF cookie that every POST and DELETE needs.
    /// </summary>
    public async Task<JsonElement?> ConfigAsync(CancellationToken ct)
    {
        if (_config is not null)
            return _config;
        using var response = await Session.SendRawAsync(HttpMethod.Get, Url("config"), null, ct);
        if (response.StatusCode != HttpStatusCode.OK)
            return null;
        try
        {
            var json = await ReadJsonAsync(response, ct);
            return _config = json.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object ? json : null;
        }
        catch (PosternException)
        {
            return null;
        }
    }

    public override async Task LoginAsync(string username, string password, CancellationToken ct)
    {
        var config = await ConfigAsync(ct) ?? throw new NotFoundException(
            $"GET {Session.Resolve(Url("config"))}: this site has no allauth headless API.", HttpStatusCode.NotFound, null);
        // allauth takes either "username" or "email", never both: an address goes as one when the site logs in by e-mail.
        var field = username.Contains('@', StringComparison.Ordinal) && LoginMethods(config).Contains("email") ? "email" : "username";
        var body = new Dictionary<string, string> { [field] = username, ["password"] = password };
        var response = await Session.SendRawAsync(HttpMethod.Post, Url("auth/login"), JsonContent.Create(body), ct);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            // 409: someone is signed in already in this session; as a browser would, sign them out and log in afresh.
            response.Dispose();
            using (await Session.SendRawAsync(HttpMethod.Delete, Url("auth/session"), null, ct))
            {
            }
            response = await Session.SendRawAsync(HttpMethod.Post, Url("auth/login"), JsonContent.Create(body), ct);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw await ErrorMapping.ToExceptionAsync(response, hadSession: false, login: true, ct);
        }
    }

    private static HashSet<string> LoginMethods(JsonElement config)
    {
        var methods = new HashSet<string>(StringComparer.Ordinal);
        if (config.TryGetProperty("data", out var data) && data.TryGetProperty("account", out var account))
        {
            if (account.TryGetProperty("login_methods", out var list) && list.ValueKind == JsonValueKind.Array)
                methods.UnionWith(list.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.String).Select(m => m.GetString()!));
            // Older releases: "authentication_method": "username" | "email" | "username_email".
            if (account.TryGetProperty("authentication_method", out var method) && method.GetString() is { } name)
                methods.UnionWith(name.Split('_'));
        }
        return methods;
    }

    public override async Task CompleteTwoFactorAsync(string code, CancellationToken ct)
    {
        using var response = await Session.SendRawAsync(HttpMethod.Post, Url("auth/2fa/authenticate"), JsonContent.Create(new { code }), ct);
        if (response.IsSuccessStatusCode)
            return;
        var error = await ErrorMapping.ToExceptionAsync(response, hadSession: false, login: true, ct);
        // "Incorrect code." is allauth's answer to a wrong or spent code: a failed login, not a malformed request.
        throw error is ValidationException { Status: HttpStatusCode.BadRequest } wrong
            ? new InvalidCredentialsException(wrong.Detail ?? "Incorrect code.", wrong.Status, wrong.Detail) { Request = wrong.Request }
            : error;
    }

    public override Task<JsonElement> WhoAmIAsync(CancellationToken ct) => UserFromAsync(Url("auth/session"), ct);

    public override async Task LogoutAsync(CancellationToken ct)
    {
        using var response = await Session.SendRawAsync(HttpMethod.Delete, Url("auth/session"), null, ct);
        // allauth answers a successful logout with 401: "the session is now unauthenticated".
        var json = response.StatusCode == HttpStatusCode.Unauthorized ? await ReadJsonAsync(response, ct) : default;
        var signedOut = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("meta", out var meta)
            && meta.TryGetProperty("is_authenticated", out var authenticated) && authenticated.ValueKind == JsonValueKind.False;
        if (!signedOut)
            throw await ErrorMapping.ToExceptionAsync(response, hadSession: true, login: false, ct);
        Session.ForgetSessionCookie();
    }

    public override async Task ReauthenticateAsync(string password, CancellationToken ct)
    {
        using var response = await Session.SendRawAsync(HttpMethod.Post, Url("auth/reauthenticate"), JsonContent.Create(new { password }), ct);
        if (!response.IsSuccessStatusCode)
            throw await ErrorMapping.ToExceptionAsync(response, hadSession: true, login: true, ct);
    }

    public override async Task<DetailAnswer> ChangePasswordAsync(string oldPassword, string newPassword, CancellationToken ct)
    {
        using var response = await Session.SendRawAsync(HttpMethod.Post, Url("account/password/change"),
            JsonContent.Create(new { current_password = oldPassword, new_password = newPassword }), ct);
        if (!response.IsSuccessStatusCode)
            throw await ErrorMapping.ToExceptionAsync(response, Session.HasSession, login: false, ct);
        return new DetailAnswer("Password changed.");
    }

    public override async Task<DetailAnswer> RequestPasswordResetAsync(string email, CancellationToken ct)
    {
        await ConfigAsync(ct);
        using var response = await Session.SendRawAsync(HttpMethod.Post, Url("auth/password/request"), JsonContent.Create(new { email }), ct);
        if (!response.IsSuccessStatusCode)
            throw await ErrorMapping.ToExceptionAsync(response, hadSession: false, login: false, ct);
        return new DetailAnswer("Password reset e-mail has been sent.");
    }
}
