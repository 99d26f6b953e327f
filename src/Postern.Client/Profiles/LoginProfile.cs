using System.Net;
using System.Text.Json;

namespace Postern.Client.Profiles;

/// <summary>
/// How one kind of Django authentication stack logs in, says who is signed in, and logs out: the seed's JSON
/// endpoints (<see cref="SeedProfile"/>), allauth's headless API (<see cref="AllauthHeadlessProfile"/>), or a login
/// form (<see cref="FormProfile"/>: Django's LoginView, allauth's pages, DRF's <c>/api-auth/login/</c>).
/// </summary>
internal abstract class LoginProfile(PosternSession session)
{
    protected PosternSession Session { get; } = session;

    public abstract LoginMode Mode { get; }

    /// <summary>The page that names the profile's login (saved with the session); null when the profile has a fixed one.</summary>
    public virtual string? LoginUrl => null;

    /// <summary>Where a fresh <c>csrftoken</c> cookie can be had (after a CSRF failure).</summary>
    public abstract string CsrfSource { get; }

    /// <summary>Logs in; throws <see cref="TwoFactorRequiredException"/> when the password was right and a code is due.</summary>
    public abstract Task LoginAsync(string username, string password, CancellationToken ct);

    /// <summary>Finishes a pending login with a TOTP or recovery code.</summary>
    public abstract Task CompleteTwoFactorAsync(string code, CancellationToken ct);

    /// <summary>The signed-in user as the backend describes them (the object, not its envelope).</summary>
    public abstract Task<JsonElement> WhoAmIAsync(CancellationToken ct);

    /// <summary>Ends the session on the server; <see cref="LogoutNotConfirmedException"/> when the server kept it.</summary>
    public abstract Task LogoutAsync(CancellationToken ct);

    /// <summary>Confirms the password for a sensitive action.</summary>
    public virtual Task ReauthenticateAsync(string password, CancellationToken ct) =>
        throw new PosternException($"{Mode} logins have no reauthentication endpoint that this client knows.");

    public virtual Task<DetailAnswer> ChangePasswordAsync(string oldPassword, string newPassword, CancellationToken ct) =>
        throw new PosternException($"Changing the password is not available through a {Mode} login; use the site's own pages.");

    public virtual Task<DetailAnswer> RequestPasswordResetAsync(string email, CancellationToken ct) =>
        throw new PosternException($"Asking for a password reset is not available through a {Mode} login; use the site's own pages.");

    /// <summary>A GET of <paramref name="url"/> as JSON: the user object at the root, or under <c>data.user</c> (allauth).</summary>
    protected async Task<JsonElement> UserFromAsync(string url, CancellationToken ct)
    {
        // Through the session's checked GET: typed errors, and one login again on an expired session when it has credentials.
        var json = await Session.GetJsonAsync(url, ct);
        return json.ValueKind == JsonValueKind.Object && json.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            && data.TryGetProperty("user", out var user) ? user.Clone() : json;
    }

    protected static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new PosternException($"{ErrorMapping.RequestLine(response)}: {(int)response.StatusCode} with a body that is not JSON.",
                response.StatusCode, null)
            { Request = ErrorMapping.RequestLine(response) };
        }
    }

    /// <summary>
    /// Postern answers a wrong code or password with DRF's field error (<c>{"code": ["Incorrect code."]}</c>); to the
    /// caller that is a refused credential, as allauth's and a login's wrong password are, not a form to correct.
    /// </summary>
    protected static PosternException AsRefusedSecret(PosternException error, string field) =>
        error is ValidationException && error.FieldErrors.TryGetValue(field, out var messages) && messages.Count > 0
            ? new InvalidCredentialsException(messages[0], error.Status, messages[0]) { Request = error.Request }
            : error;

    /// <summary>The logout was answered; it counts only if the session cookie is gone, as the server ends it.</summary>
    protected void EnsureSessionEnded(HttpResponseMessage response)
    {
        if (Session.HasSession)
            throw new LogoutNotConfirmedException(
                $"{ErrorMapping.RequestLine(response)}: {(int)response.StatusCode} {response.ReasonPhrase}, but the server kept the session "
                + "(its cookie was not cleared).")
            { Request = ErrorMapping.RequestLine(response) };
    }

    protected static bool IsRedirect(HttpResponseMessage response) =>
        (int)response.StatusCode is >= 300 and < 400 && response.StatusCode != HttpStatusCode.NotModified;
}
