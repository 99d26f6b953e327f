using System.Net;

namespace Postern.Client;

/// <summary>A request the backend refused or could not answer. Carries the status, DRF's <c>detail</c> and field errors.</summary>
public class PosternException : Exception
{
    public PosternException(string message, HttpStatusCode? status = null, string? detail = null,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? fieldErrors = null, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        Detail = detail;
        FieldErrors = fieldErrors ?? new Dictionary<string, IReadOnlyList<string>>();
    }

    public PosternException() : this("The request failed.")
    {
    }

    public PosternException(string message) : this(message, null)
    {
    }

    public PosternException(string message, Exception? inner) : this(message, null, null, null, inner)
    {
    }

    public HttpStatusCode? Status { get; }

    /// <summary>The request that failed, as <c>POST http://host/accounts/login/</c>, when there was one.</summary>
    public string? Request { get; internal set; }

    /// <summary>DRF's <c>{"detail": ...}</c>, when the backend sent one.</summary>
    public string? Detail { get; }

    /// <summary>DRF's validation errors: field name → messages.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> FieldErrors { get; }

    /// <summary>
    /// The typed exception a failed response means — what the JSON methods throw — for callers of
    /// <see cref="PosternSession.SendRawAsync"/> who look at the response themselves. The body is read (and buffered).
    /// </summary>
    /// <param name="hadSession">
    /// Whether the request carried a session cookie: a refusal then means the session expired rather than "not logged
    /// in".
    /// </param>
    public static Task<PosternException> FromResponseAsync(HttpResponseMessage response, bool hadSession, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        return ErrorMapping.ToExceptionAsync(response, hadSession, login: false, ct);
    }
}

/// <summary>The request needed a signed-in session and had none (DRF's 403 "Authentication credentials were not provided.").</summary>
public sealed class NotAuthenticatedException(string message, HttpStatusCode? status, string? detail)
    : PosternException(message, status, detail);

/// <summary>The session this client had is no longer valid (expired, logged out elsewhere, password changed).</summary>
public sealed class SessionExpiredException(string message, HttpStatusCode? status, string? detail)
    : PosternException(message, status, detail);

/// <summary>
/// The API token was refused (401 with <c>WWW-Authenticate: Token</c>): revoked, ended by a password change, its user
/// deactivated, or not a token at all. DRF's words are in <see cref="PosternException.Detail"/>.
/// </summary>
public sealed class InvalidTokenException(string message, HttpStatusCode? status, string? detail)
    : PosternException(message, status, detail);

/// <summary>Wrong username or password (or an inactive user).</summary>
public sealed class InvalidCredentialsException(string message, HttpStatusCode? status, string? detail)
    : PosternException(message, status, detail);

/// <summary>Signed in, but not allowed (DRF's "You do not have permission to perform this action.").</summary>
public sealed class PermissionDeniedException(string message, HttpStatusCode? status, string? detail)
    : PosternException(message, status, detail);

/// <summary>The backend's CSRF check refused the request, even after one token refresh.</summary>
public sealed class CsrfFailedException(string message, HttpStatusCode? status, string? detail) : PosternException(message, status, detail);

/// <summary>400 with DRF field errors.</summary>
public sealed class ValidationException(
    string message, HttpStatusCode? status, string? detail, IReadOnlyDictionary<string, IReadOnlyList<string>> fieldErrors)
    : PosternException(message, status, detail, fieldErrors);

public sealed class NotFoundException(string message, HttpStatusCode? status, string? detail) : PosternException(message, status, detail);

/// <summary>5xx: the backend failed.</summary>
public sealed class ServerErrorException(string message, HttpStatusCode? status, string? detail)
    : PosternException(message, status, detail);

/// <summary>No answer at all: connection refused, reset, TLS failure, timeout.</summary>
public sealed class TransportException(string message, Exception? inner) : PosternException(message, inner);

/// <summary>A link led to another origin and the options say not to follow it.</summary>
public sealed class CrossOriginException(string message) : PosternException(message);

/// <summary>
/// 429 (or allauth's "Too many failed login attempts"): the backend throttles this client or account. Wait
/// <see cref="RetryAfter"/> (the backend's <c>Retry-After</c>, when it sent one) before trying again.
/// </summary>
public sealed class ThrottledException(string message, HttpStatusCode? status, string? detail, TimeSpan? retryAfter)
    : PosternException(message, status, detail)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The password was right and the backend wants a second factor: Postern's <c>mfa_required</c>, allauth's
/// <c>mfa_authenticate</c> flow or its two-factor form. The login is pending in this session: finish it with
/// <see cref="PosternSession.CompleteTwoFactorAsync"/> (or give <see cref="PosternClientOptions.TwoFactorCode"/>).
/// </summary>
public sealed class TwoFactorRequiredException(string message, HttpStatusCode? status, string? detail)
    : PosternException(message, status, detail);

/// <summary>
/// A sensitive action needs a recent login (Postern's <c>reauthentication_required</c>, allauth's <c>reauthenticate</c>
/// flow): call <see cref="PosternSession.ReauthenticateAsync"/> with the password, then try again.
/// </summary>
public sealed class ReauthenticationRequiredException(string message, HttpStatusCode? status, string? detail)
    : PosternException(message, status, detail);

/// <summary>
/// Logout was sent but the backend did not end the session (it kept the session cookie alive): the session may still
/// be usable by whoever holds the cookie.
/// </summary>
public sealed class LogoutNotConfirmedException(string message) : PosternException(message);
