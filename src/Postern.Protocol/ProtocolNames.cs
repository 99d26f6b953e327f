namespace Postern.Protocol;

/// <summary>Cookie names of the protocol, as Django names them by default.</summary>
public static class CookieNames
{
    /// <summary>Holds the CSRF secret (32 chars; 64-char masked value from Django &lt; 4.1).</summary>
    public const string Csrf = "csrftoken";

    /// <summary>Holds the server-side session key.</summary>
    public const string Session = "sessionid";

    /// <summary>
    /// Postern's own: a login whose password was right, waiting for its second factor (signed, short-lived, not a
    /// session: nobody is signed in until <c>POST /auth/mfa/authenticate</c>).
    /// </summary>
    public const string MfaPending = "postern_mfa";
}

/// <summary>Header names of the protocol.</summary>
public static class HeaderNames
{
    /// <summary>Request header carrying the CSRF token on unsafe requests; also sent back by <c>GET /auth/csrf</c>.</summary>
    public const string CsrfToken = "X-CSRFToken";

    /// <summary>How Django spells the header in its failure reasons (<c>HttpHeaders.parse_header_name</c>).</summary>
    public const string CsrfTokenAsDjangoNamesIt = "X-Csrftoken";
}

/// <summary>Form field names of the protocol.</summary>
public static class FormFields
{
    /// <summary>Hidden form field carrying the CSRF token (Django's <c>{% csrf_token %}</c>).</summary>
    public const string CsrfToken = "csrfmiddlewaretoken";

    public const string Username = "username";
    public const string Password = "password";
}

/// <summary>The seed's endpoints, relative to the backend's base URL.</summary>
public static class EndpointPaths
{
    public const string Csrf = "/auth/csrf";
    public const string Login = "/auth/login";
    public const string Logout = "/auth/logout";
    public const string User = "/auth/user";
    public const string ApiRoot = "/api/";

    // The account flows beyond the seed (docs/accounts.md).
    public const string PasswordChange = "/auth/password/change";
    public const string PasswordReset = "/auth/password/reset";
    public const string PasswordResetConfirm = "/auth/password/reset/confirm";
    public const string Signup = "/auth/signup";
    public const string EmailVerify = "/auth/email/verify";
    public const string EmailVerifyResend = "/auth/email/verify/resend";

    // Two-factor authentication and reauthentication (docs/accounts.md).
    public const string Mfa = "/auth/mfa";
    public const string TotpSetup = "/auth/mfa/totp/setup";
    public const string TotpActivate = "/auth/mfa/totp/activate";
    public const string Totp = "/auth/mfa/totp";
    public const string RecoveryCodes = "/auth/mfa/recovery-codes";
    public const string MfaAuthenticate = "/auth/mfa/authenticate";
    public const string Reauthenticate = "/auth/reauthenticate";
}

/// <summary>HTTP methods that RFC 9110 defines as safe: the only ones exempt from CSRF checks.</summary>
public static class SafeMethods
{
    public static bool Contains(string method) =>
        method is "GET" or "HEAD" or "OPTIONS" or "TRACE";
}
