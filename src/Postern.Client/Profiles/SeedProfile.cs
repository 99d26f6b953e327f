using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Postern.Protocol;

namespace Postern.Client.Profiles;

/// <summary>
/// The seed's protocol (Postern, the Django reference backend): <c>GET /auth/csrf</c>, <c>POST /auth/login</c> with
/// <c>X-CSRFToken</c>, <c>/auth/user</c>, <c>/auth/logout</c>; Postern's two-factor step and reauthentication.
/// </summary>
internal sealed class SeedProfile(PosternSession session, PosternClientOptions options) : LoginProfile(session)
{
    public override LoginMode Mode => LoginMode.Seed;

    public override string CsrfSource => options.CsrfPath;

    public override async Task LoginAsync(string username, string password, CancellationToken ct)
    {
        if (Session.CsrfToken is null)
        {
            using var csrf = await Session.SendPageAsync(HttpMethod.Get, options.CsrfPath, null, ct);
            await ErrorMapping.EnsureSuccessAsync(csrf, hadSession: false, ct);
        }
        using var response = await Session.SendRawAsync(HttpMethod.Post, options.LoginPath, JsonContent.Create(new { username, password }), ct);
        if (!response.IsSuccessStatusCode)
            throw await ErrorMapping.ToExceptionAsync(response, hadSession: false, login: response.StatusCode == HttpStatusCode.Unauthorized, ct);
    }

    public override async Task CompleteTwoFactorAsync(string code, CancellationToken ct)
    {
        using var response = await Session.SendRawAsync(HttpMethod.Post, EndpointPaths.MfaAuthenticate, JsonContent.Create(new { code }), ct);
        if (!response.IsSuccessStatusCode)
            throw AsRefusedSecret(await ErrorMapping.ToExceptionAsync(response, hadSession: false, login: true, ct), "code");
    }

    public override Task<JsonElement> WhoAmIAsync(CancellationToken ct) => UserFromAsync(options.WhoAmIPath ?? EndpointPaths.User, ct);

    public override async Task LogoutAsync(CancellationToken ct)
    {
        var response = await Session.SendRawAsync(HttpMethod.Post, options.LogoutPath, null, ct);
        if (response.StatusCode == HttpStatusCode.MethodNotAllowed)
        {
            // The seed's backend ends the session on GET.
            response.Dispose();
            response = await Session.SendRawAsync(HttpMethod.Get, options.LogoutPath, null, ct);
        }
        using (response)
        {
            await ErrorMapping.EnsureSuccessAsync(response, hadSession: false, ct);
            EnsureSessionEnded(response);
        }
    }

    public override async Task ReauthenticateAsync(string password, CancellationToken ct)
    {
        using var response = await Session.SendRawAsync(HttpMethod.Post, EndpointPaths.Reauthenticate, JsonContent.Create(new { password }), ct);
        if (!response.IsSuccessStatusCode)
            throw AsRefusedSecret(await ErrorMapping.ToExceptionAsync(response, hadSession: true, login: false, ct), "password");
    }

    public override Task<DetailAnswer> ChangePasswordAsync(string oldPassword, string newPassword, CancellationToken ct) =>
        Session.PostAsync<DetailAnswer>(EndpointPaths.PasswordChange,
            new { old_password = oldPassword, new_password1 = newPassword, new_password2 = newPassword }, ct);

    public override Task<DetailAnswer> RequestPasswordResetAsync(string email, CancellationToken ct) =>
        Session.PostAsync<DetailAnswer>(EndpointPaths.PasswordReset, new { email }, ct);
}
