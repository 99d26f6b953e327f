using System.Text.Json;
using Postern.Protocol;

namespace Postern.Client;

/// <summary>A backend's answer to an account request: DRF's <c>detail</c>.</summary>
public sealed record DetailAnswer(string Detail);

/// <summary>Changes to one's own profile; null leaves a field as it is.</summary>
public sealed record ProfileChanges(string? Email = null, string? FirstName = null, string? LastName = null);

/// <summary>The account flows of Postern (and of a Django backend shaped like dj-rest-auth): docs/accounts.md.</summary>
public sealed partial class PosternSession
{
    /// <summary>
    /// Changes the signed-in user's password. The session stays signed in under a new key and CSRF token (both picked up
    /// from the answer's cookies); every other session of the user ends.
    /// </summary>
    /// <exception cref="ValidationException">Wrong old password, a mismatch, or the password validators' messages.</exception>
    /// <exception cref="NotAuthenticatedException">Not signed in.</exception>
    /// <remarks>The profile's way: the seed's <c>/auth/password/change</c>, or allauth's <c>account/password/change</c>.</remarks>
    /// <exception cref="ReauthenticationRequiredException">The backend wants the password confirmed first (<see cref="ReauthenticateAsync"/>).</exception>
    public Task<DetailAnswer> ChangePasswordAsync(string oldPassword, string newPassword, CancellationToken ct = default) =>
        Profile.ChangePasswordAsync(oldPassword, newPassword, ct);

    /// <summary>Asks for a reset e-mail; the same answer whether or not anyone has the address.</summary>
    /// <exception cref="ValidationException">Not an e-mail address.</exception>
    /// <remarks>Needs no login: with <see cref="LoginMode.Auto"/> the backend's profile is found first, as a login would.</remarks>
    public async Task<DetailAnswer> RequestPasswordResetAsync(string email, CancellationToken ct = default) =>
        await (await FoundProfileAsync(ct)).RequestPasswordResetAsync(email, ct);

    /// <summary>Sets a new password with the <paramref name="uid"/> and <paramref name="token"/> of a reset link.</summary>
    /// <exception cref="ValidationException">A bad uid or token (<c>uid</c>/<c>token</c>: "Invalid value"), or the password's problems.</exception>
    public Task<DetailAnswer> ConfirmPasswordResetAsync(string uid, string token, string newPassword, CancellationToken ct = default) =>
        PostAsync<DetailAnswer>(EndpointPaths.PasswordResetConfirm,
            new { uid, token, new_password1 = newPassword, new_password2 = newPassword }, ct);

    /// <summary>Signs up; signed in at once unless the backend makes e-mail verification mandatory.</summary>
    /// <exception cref="ValidationException">The username, address or password is refused.</exception>
    /// <exception cref="PermissionDeniedException">Sign-up is closed.</exception>
    public Task<CurrentUser> SignUpAsync(string username, string email, string password, CancellationToken ct = default) =>
        PostAsync<CurrentUser>(EndpointPaths.Signup, new { username, email, password1 = password, password2 = password }, ct);

    /// <summary>Verifies an address with the key of its verification link.</summary>
    /// <exception cref="ValidationException">A bad or expired key.</exception>
    public Task<DetailAnswer> VerifyEmailAsync(string key, CancellationToken ct = default) =>
        PostAsync<DetailAnswer>(EndpointPaths.EmailVerify, new { key }, ct);

    /// <summary>Asks for the verification e-mail again; the same answer whether or not anyone has the address.</summary>
    public Task<DetailAnswer> ResendEmailVerificationAsync(string email, CancellationToken ct = default) =>
        PostAsync<DetailAnswer>(EndpointPaths.EmailVerifyResend, new { email }, ct);

    /// <summary>Changes the signed-in user's address or names; a new address is unverified until its link is followed.</summary>
    public Task<CurrentUser> UpdateProfileAsync(ProfileChanges changes, CancellationToken ct = default)
    {
        var body = new Dictionary<string, string>();
        if (changes.Email is not null)
            body["email"] = changes.Email;
        if (changes.FirstName is not null)
            body["first_name"] = changes.FirstName;
        if (changes.LastName is not null)
            body["last_name"] = changes.LastName;
        return PatchAsync<CurrentUser>(_options.WhoAmIPath ?? EndpointPaths.User, body, ct);
    }

    /// <summary>
    /// Staff: sets the password of the user at <paramref name="userUrl"/> (its <c>url</c> in the API, or a path); every
    /// session of that user ends.
    /// </summary>
    /// <exception cref="PermissionDeniedException">Not staff.</exception>
    /// <exception cref="ValidationException">The password validators' messages.</exception>
    public Task<JsonElement> SetUserPasswordAsync(string userUrl, string password, CancellationToken ct = default) =>
        PostAsync<JsonElement>(Resolve(userUrl.EndsWith('/') ? userUrl : userUrl + "/") + "set_password/", new { password }, ct);
}
