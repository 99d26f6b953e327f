using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Csrf;
using Postern.Server.Sessions;
using Postern.Server.Storage;
using Postern.Server.Throttling;

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
}

/// <summary>A login attempt's outcome, the user signed in, and for <see cref="LoginOutcome.Throttled"/> the seconds to wait.</summary>
public readonly record struct LoginResult(LoginOutcome Outcome, Storage.User? User = null, int RetryAfterSeconds = 0);

/// <summary>
/// The one way a request signs in, for every login path (<c>/auth/login</c>, <c>/api-auth/login/</c>): the credentials
/// checked as Django's ModelBackend checks them, then a brand-new session (the one the request came with ends, so a
/// planted key is worthless) and a new CSRF secret (a token seen before login is worthless after it). Each path only
/// reads its input and words its answer.
/// </summary>
public sealed class LoginFlow(AccountService accounts, IUserStore users, LoginThrottle throttle, IOptions<AccountOptions> options)
{
    public const string EmailNotVerified = "E-mail is not verified.";

    public async Task<LoginResult> SignInAsync(HttpContext context, string username, string password)
    {
        if (password.Length > DjangoPasswordHash.MaxPasswordLength)
            return new(LoginOutcome.PasswordTooLong);
        var ct = context.RequestAborted;
        var address = context.Connection.RemoteIpAddress;
        var (wait, counted) = await throttle.CheckAsync(username, address, ct);
        if (wait > 0)
            return new(LoginOutcome.Throttled, RetryAfterSeconds: wait);
        var user = await accounts.AuthenticateAsync(username, password, ct,
            options.Value.EmailVerification == EmailVerificationMode.Mandatory ? IsVerifiedAsync : null);
        if (ReferenceEquals(user, AccountService.NotAdmitted))
            return new(LoginOutcome.EmailNotVerified);
        // A user deleted between the password check and the session's creation fails as an unknown user.
        if (user is null || !await context.GetRequestSession().LoginAsync(user))
        {
            await throttle.RecordFailureAsync(username, address, ct);
            return new(LoginOutcome.Refused);
        }
        if (counted)
            await throttle.ClearAsync(username, ct);
        context.GetCsrfCookie().Rotate();
        return new(LoginOutcome.SignedIn, user);

        // Staff vouch for the addresses they set, even an empty one; a user's own address counts once its link is followed.
        async Task<bool> IsVerifiedAsync(User candidate) =>
            await users.FindVerifiedEmailAsync(candidate.Id, context.RequestAborted) == candidate.Email;
    }
}
