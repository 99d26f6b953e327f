using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Audit;
using Postern.Server.Csrf;
using Postern.Server.Observability;
using Postern.Server.Sessions;
using Postern.Server.Storage;
using Postern.Server.Throttling;
using Postern.Server.TwoFactor;

namespace Postern.Server.Accounts;

/// <summary>How a login attempt ended.</summary>
public enum LoginOutcome
{
    SignedIn,

    /// <summary>A wrong password, an unknown or inactive user: one outcome, so that nothing tells them apart.</summary>
    Refused,

    /// <summary>
    /// Longer than any password Postern hashes: refused before hashing (a megabyte hashed a million times is a denial
    /// of service).
    /// </summary>
    PasswordTooLong,

    /// <summary>
    /// The right password, but verification is mandatory and the address is not verified: said only to whoever knows the
    /// password.
    /// </summary>
    EmailNotVerified,

    /// <summary>The account or the address is locked (Throttling/LoginThrottle.cs): refused before the password is hashed.</summary>
    Throttled,

    /// <summary>
    /// The right password of a user with two-factor authentication: nobody is signed in yet; the response carries the
    /// pending login (TwoFactor/PendingMfaLogins.cs) that a code completes.
    /// </summary>
    MfaRequired,

    /// <summary>A code was given, but no login waits for one (none began, it expired, or the password changed since).</summary>
    NoPendingLogin,
}

/// <summary>A login attempt's outcome, the user signed in, and for <see cref="LoginOutcome.Throttled"/> the seconds to wait.</summary>
public readonly record struct LoginResult(LoginOutcome Outcome, Storage.User? User = null, int RetryAfterSeconds = 0);

/// <summary>
/// The one way a request signs in, for every login path (<c>/auth/login</c>, <c>/api-auth/login/</c>): the credentials
/// checked as Django's ModelBackend checks them, then a brand-new session (the one the request came with ends, so a
/// planted key is worthless) and a new CSRF secret (a token seen before login is worthless after it). Each path only
/// reads its input and words its answer.
/// </summary>
public sealed class LoginFlow(
    AccountService accounts, IUserStore users, LoginThrottle throttle, MfaStore mfa, PendingMfaLogins pendingLogins, SecondFactor secondFactor,
    AuditTrail audit, IOptions<AccountOptions> options, PosternMetrics? metrics = null)
{
    public const string EmailNotVerified = "E-mail is not verified.";
    public const string MfaRequired = "Two-factor authentication required.";
    public const string NoPendingLogin = "No login is waiting for a code: log in with the password first.";

    public async Task<LoginResult> SignInAsync(HttpContext context, string username, string password)
    {
        if (password.Length > DjangoPasswordHash.MaxPasswordLength)
        {
            metrics?.Login(PosternMetrics.Outcomes.InvalidCredentials);
            return new(LoginOutcome.PasswordTooLong);
        }
        var ct = context.RequestAborted;
        var address = context.Connection.RemoteIpAddress;
        var (wait, counted) = await throttle.CheckAsync(username, address, ct);
        if (wait > 0)
        {
            metrics?.Login(PosternMetrics.Outcomes.Throttled);
            return new(LoginOutcome.Throttled, RetryAfterSeconds: wait);
        }
        var user = await accounts.AuthenticateAsync(username, password, ct,
            options.Value.EmailVerification == EmailVerificationMode.Mandatory ? IsVerifiedAsync : null);
        if (ReferenceEquals(user, AccountService.NotAdmitted))
        {
            metrics?.Login(PosternMetrics.Outcomes.EmailNotVerified);
            await RecordFailureAsync(context, username, LoginFlow.EmailNotVerified, counts: false);
            return new(LoginOutcome.EmailNotVerified);
        }
        if (user is null || ReferenceEquals(user, AccountService.Inactive))
        {
            // The same answer, audit event and count toward the lockout either way: only the operator's metric tells them apart.
            metrics?.Login(user is null ? PosternMetrics.Outcomes.InvalidCredentials : PosternMetrics.Outcomes.Inactive);
            await RecordFailureAsync(context, username, "Invalid username or password.");
            return new(LoginOutcome.Refused);
        }
        // The count is not cleared yet: a password known to an attacker must not reset the count of wrong codes.
        if (await mfa.IsActiveAsync(user.Id, ct))
        {
            pendingLogins.Begin(context, user);
            await audit.RecordAsync(context, AuditEventKinds.MfaRequired, user, Via(context));
            metrics?.Login(PosternMetrics.Outcomes.MfaRequired);
            return new(LoginOutcome.MfaRequired, user);
        }
        return await OpenSessionAsync(context, user, username, counted);

        // Staff vouch for the addresses they set, even an empty one; a user's own address counts once its link is followed.
        async Task<bool> IsVerifiedAsync(User candidate) =>
            await users.FindVerifiedEmailAsync(candidate.Id, context.RequestAborted) == candidate.Email;
    }

    /// <summary>
    /// The second step of a login that needs a second factor: a TOTP or recovery code for the pending login. Wrong codes
    /// count toward the account's lockout, and a locked account is refused before the code is looked at.
    /// </summary>
    public async Task<LoginResult> CompleteWithCodeAsync(HttpContext context, string code)
    {
        var ct = context.RequestAborted;
        if (await pendingLogins.FindAsync(context) is not { } user)
            return new(LoginOutcome.NoPendingLogin);
        var address = context.Connection.RemoteIpAddress;
        var (wait, counted) = await throttle.CheckAsync(user.Username, address, ct);
        if (wait > 0)
        {
            metrics?.Login(PosternMetrics.Outcomes.Throttled);
            return new(LoginOutcome.Throttled, RetryAfterSeconds: wait);
        }
        if (!await secondFactor.VerifyAsync(user, code, ct))
        {
            metrics?.Login(PosternMetrics.Outcomes.MfaFailed);
            await audit.RecordAsync(context, AuditEventKinds.MfaFailed, user, Via(context));
            await RecordLockAsync(context, user.Username, await throttle.RecordFailureAsync(user.Username, address, ct));
            return new(LoginOutcome.Refused);
        }
        metrics?.Login(PosternMetrics.Outcomes.MfaPassed);
        await audit.RecordAsync(context, AuditEventKinds.MfaPassed, user, Via(context));
        var result = await OpenSessionAsync(context, user, user.Username, counted);
        if (result.Outcome == LoginOutcome.SignedIn)
            pendingLogins.End(context);
        return result;
    }

    /// <summary>
    /// A refused login, recorded under the user it names when there is one (so that users see attempts on their account)
    /// or the username tried. Locked or throttled attempts are not recorded one by one (the lock is, once): refusing them must
    /// stay as cheap as it is, or a flood of them would cost the server a write each.
    /// </summary>
    private async Task RecordFailureAsync(HttpContext context, string username, string why, bool counts = true)
    {
        var named = await users.FindUserByUsernameAsync(username, context.RequestAborted);
        await audit.RecordAsync(context, AuditEventKinds.LoginFailed, named?.Id, named?.Username ?? username, $"{why} {Via(context)}");
        if (counts)
            await RecordLockAsync(context, username, await throttle.RecordFailureAsync(username, context.Connection.RemoteIpAddress, context.RequestAborted));
    }

    private async Task RecordLockAsync(HttpContext context, string username, int lockedSeconds)
    {
        if (lockedSeconds <= 0)
            return;
        var named = await users.FindUserByUsernameAsync(username, context.RequestAborted);
        await audit.RecordAsync(context, AuditEventKinds.LoginLocked, named?.Id, named?.Username ?? username,
            $"Locked for {lockedSeconds} seconds after repeated failures.");
    }

    private static string Via(HttpContext context) => $"({context.Request.Method} {context.Request.Path})";

    private async Task<LoginResult> OpenSessionAsync(HttpContext context, User user, string username, bool counted)
    {
        // A user deleted between the password check and the session's creation fails as an unknown user.
        if (!await context.GetRequestSession().LoginAsync(user))
        {
            metrics?.Login(PosternMetrics.Outcomes.InvalidCredentials);
            await RecordFailureAsync(context, username, "Invalid username or password.");
            return new(LoginOutcome.Refused);
        }
        metrics?.Login(PosternMetrics.Outcomes.Succeeded);
        await audit.RecordAsync(context, AuditEventKinds.LoginSucceeded, user, Via(context));
        if (counted)
            await throttle.ClearAsync(username, context.RequestAborted);
        context.GetCsrfCookie().Rotate();
        return new(LoginOutcome.SignedIn, user);
    }
}
