namespace Postern.Protocol;

/// <summary>
/// The kinds of security event Postern's audit trail records (<c>GET /api/events/</c>, its <c>kind</c> field and filter),
/// each with what it means. Shared by the server, the clients and the tests.
/// </summary>
public static class AuditEventKinds
{
    public const string LoginSucceeded = "login.succeeded";
    public const string LoginFailed = "login.failed";
    public const string LoginLocked = "login.locked";
    public const string MfaRequired = "mfa.required";
    public const string MfaPassed = "mfa.passed";
    public const string MfaFailed = "mfa.failed";
    public const string Reauthenticated = "reauthenticated";
    public const string Logout = "logout";
    public const string SessionRevoked = "session.revoked";
    public const string SessionsTrimmed = "sessions.trimmed";
    public const string PasswordChanged = "password.changed";
    public const string PasswordReset = "password.reset";
    public const string EmailChanged = "email.changed";
    public const string EmailVerified = "email.verified";
    public const string MfaEnabled = "mfa.enabled";
    public const string MfaDisabled = "mfa.disabled";
    public const string RecoveryCodesGenerated = "mfa.recovery_codes_generated";
    public const string TokenCreated = "token.created";
    public const string TokenRevoked = "token.revoked";
    public const string UserCreated = "user.created";
    public const string UserDeleted = "user.deleted";
    public const string UserActivated = "user.activated";
    public const string UserDeactivated = "user.deactivated";
    public const string StaffGranted = "user.staff_granted";
    public const string StaffRevoked = "user.staff_revoked";
    public const string SuperuserGranted = "user.superuser_granted";
    public const string SuperuserRevoked = "user.superuser_revoked";

    /// <summary>Every kind, in the order the API lists them as choices, with what a person reads for it.</summary>
    public static IReadOnlyList<(string Kind, string Description)> All { get; } =
    [
        (LoginSucceeded, "Logged in"),
        (LoginFailed, "A login failed (the username tried; never the password)"),
        (LoginLocked, "The account was locked after failed logins"),
        (MfaRequired, "The password was right; a second factor was asked for"),
        (MfaPassed, "The second factor was given"),
        (MfaFailed, "A wrong second-factor code"),
        (Reauthenticated, "Authenticated again for a sensitive action"),
        (Logout, "Logged out"),
        (SessionRevoked, "Sessions were ended from another session"),
        (SessionsTrimmed, "The oldest sessions ended: too many live sessions"),
        (PasswordChanged, "The password was changed"),
        (PasswordReset, "The password was reset from an e-mailed link"),
        (EmailChanged, "The e-mail address was changed"),
        (EmailVerified, "The e-mail address was verified"),
        (MfaEnabled, "Two-factor authentication was turned on"),
        (MfaDisabled, "Two-factor authentication was turned off"),
        (RecoveryCodesGenerated, "New recovery codes were made"),
        (TokenCreated, "An API token was created"),
        (TokenRevoked, "An API token was revoked"),
        (UserCreated, "The user was created"),
        (UserDeleted, "The user was deleted"),
        (UserActivated, "The user was made active"),
        (UserDeactivated, "The user was made inactive"),
        (StaffGranted, "The user was made staff"),
        (StaffRevoked, "The user is no longer staff"),
        (SuperuserGranted, "The user was made a superuser"),
        (SuperuserRevoked, "The user is no longer a superuser"),
    ];
}
