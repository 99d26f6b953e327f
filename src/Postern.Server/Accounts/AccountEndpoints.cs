using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Api;
using Postern.Server.Audit;
using Postern.Server.Csrf;
using Postern.Server.Sessions;
using Postern.Server.Storage;
using Postern.Server.Throttling;

namespace Postern.Server.Accounts;

/// <summary>
/// The account flows of docs/accounts.md, each one declaration: password change, reset and its confirmation, sign-up, and
/// e-mail verification. Wire-shaped as Django's forms and dj-rest-auth shape them; the rules they share live in
/// <see cref="NewPasswordRules"/>, <see cref="FormField"/> and <see cref="AccountService"/>.
/// </summary>
public static class AccountEndpoints
{
    public const string PasswordIncorrect = "Your old password was entered incorrectly. Please enter it again.";
    public const string PasswordSaved = "New password has been saved.";
    public const string ResetSent = "Password reset e-mail has been sent.";
    public const string PasswordReset = "Password has been reset with the new password.";
    public const string InvalidValue = "Invalid value";
    public const string SignupClosed = "Sign-up is closed.";
    public const string EmailVerified = "E-mail address verified.";
    public const string VerificationSent = "Verification e-mail sent.";
    public const string UsernameTaken = "A user with that username already exists.";
    public const string TokenCannotChangePassword = "An API token cannot change the password: sign in with a session.";

    /// <summary>Django's forms.EmailField on PasswordResetForm and on a user: at most 254 characters.</summary>
    public const int MaxEmailLength = 254;

    private static readonly AccountAnswer NotSignedIn = new(403, "Not signed in, or a CSRF failure.", AuthEndpoints.NotAuthenticated);
    private static readonly AccountAnswer CsrfOnly = new(403, "A CSRF failure.");
    private static readonly AccountAnswer FieldErrors = new(400, "Field errors, DRF's shape: {\"field\": [\"message\", ...]}.");
    private static readonly FormField EmailAddress = new("email", FormFieldKind.Email) { MaxLength = MaxEmailLength };

    public static readonly AccountEndpoint PasswordChange = new()
    {
        Path = EndpointPaths.PasswordChange,
        OperationId = "changePassword",
        Summary = "Change the password",
        Description = "Django's PasswordChangeForm. This session stays signed in under a new key and a rotated CSRF secret "
            + "(read the csrftoken cookie again); every other session of the user ends at once. The old password is the "
            + "reauthentication: wrong ones count toward the account's lockout.",
        RequiresSignIn = true,
        TokenRefusal = TokenCannotChangePassword,
        Fields =
        [
            new("old_password", FormFieldKind.Password),
            new("new_password1", FormFieldKind.Password),
            new("new_password2", FormFieldKind.Password),
        ],
        Answers = [new(200, "Saved.", PasswordSaved), FieldErrors, NotSignedIn, new(429, "The account or address is locked.")],
        Handle = ChangePasswordAsync,
    };

    public static readonly AccountEndpoint PasswordResetRequest = new()
    {
        Path = EndpointPaths.PasswordReset,
        OperationId = "requestPasswordReset",
        Summary = "Ask for a password reset e-mail",
        Description = "The same answer in the same time whether or not anyone has the address; each active user with it "
            + "(ignoring case) and a usable password gets a link (Postern:Frontend:PasswordResetUrl).",
        Fields = [EmailAddress],
        Answers = [new(200, "Accepted.", ResetSent), FieldErrors, CsrfOnly],
        RateLimits = [RateLimit.PerAddress(RateNames.PasswordResetPerAddress), RateLimit.PerField(RateNames.PasswordResetPerEmail, "email")],
        Handle = RequestPasswordResetAsync,
    };

    public static readonly AccountEndpoint PasswordResetConfirm = new()
    {
        Path = EndpointPaths.PasswordResetConfirm,
        OperationId = "confirmPasswordReset",
        Summary = "Set a new password with a reset link's uid and token",
        Description = "Django's PasswordResetTokenGenerator and SetPasswordForm. The token is spent once the password "
            + "changes or the user logs in; every session of the user ends.",
        Fields =
        [
            new("uid") { Description = "The URL-safe base64 of the user's id, from the link." },
            new("token") { Description = "The token from the link." },
            new("new_password1", FormFieldKind.Password),
            new("new_password2", FormFieldKind.Password),
        ],
        Answers = [new(200, "The password is set.", PasswordReset), FieldErrors, CsrfOnly],
        Handle = ConfirmPasswordResetAsync,
    };

    public static readonly AccountEndpoint Signup = new()
    {
        Path = EndpointPaths.Signup,
        OperationId = "signup",
        Summary = "Sign up",
        Description = "Django's UserCreationForm with an e-mail address (Postern:Accounts:SignupEnabled). Signed in at once "
            + "unless e-mail verification is mandatory; a verification e-mail unless it is none.",
        Fields =
        [
            new("username", FormFieldKind.Username) { MaxLength = AccountService.MaxUsernameLength },
            EmailAddress,
            new("password1", FormFieldKind.Password),
            new("password2", FormFieldKind.Password),
        ],
        Answers = [new(201, "The new user, as GET /auth/user shows it."), FieldErrors, new(403, "Sign-up is closed, or a CSRF failure.", SignupClosed)],
        RateLimits = [RateLimit.PerAddress(RateNames.SignupPerAddress)],
        Handle = SignupAsync,
    };

    public static readonly AccountEndpoint EmailVerify = new()
    {
        Path = EndpointPaths.EmailVerify,
        OperationId = "verifyEmail",
        Summary = "Verify an e-mail address with the key from its link",
        Description = "Valid for Postern:Accounts:EmailVerificationTimeoutSeconds, and only while the address is still the user's.",
        Fields = [new("key")],
        Answers = [new(200, "Verified.", EmailVerified), FieldErrors, CsrfOnly],
        Handle = VerifyEmailAsync,
    };

    public static readonly AccountEndpoint EmailVerifyResend = new()
    {
        Path = EndpointPaths.EmailVerifyResend,
        OperationId = "resendEmailVerification",
        Summary = "Send the verification e-mail again",
        Description = "The same answer whether or not anyone has the address; each active user whose present, unverified "
            + "address it is gets a new link.",
        Fields = [EmailAddress],
        Answers = [new(200, "Accepted.", VerificationSent), FieldErrors, CsrfOnly],
        RateLimits =
        [
            RateLimit.PerAddress(RateNames.VerificationResendPerAddress), RateLimit.PerField(RateNames.VerificationResendPerEmail, "email"),
        ],
        Handle = ResendVerificationAsync,
    };

    public static IReadOnlyList<AccountEndpoint> All { get; } =
        [PasswordChange, PasswordResetRequest, PasswordResetConfirm, Signup, EmailVerify, EmailVerifyResend, .. MfaEndpoints.All];

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        foreach (var endpoint in All)
            app.Map(endpoint.Path, endpoint.RunAsync).RequireCsrf();
        return app;
    }

    private static async Task ChangePasswordAsync(AccountCall call)
    {
        var user = call.User!;
        // The old password is this action's reauthentication: guesses at it count toward the account's lockout, so a
        // stolen session cannot try passwords faster than the login can.
        var throttle = call.Service<LoginThrottle>();
        var address = call.Context.Connection.RemoteIpAddress;
        var (wait, counted) = await throttle.CheckAsync(user.Username, address, call.Aborted);
        if (wait > 0)
        {
            call.Context.Response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await call.DetailAsync(StatusCodes.Status429TooManyRequests, LoginThrottle.Detail(wait));
            return;
        }
        if (call.Value("old_password") is { } old
            && (old.Length > DjangoPasswordHash.MaxPasswordLength
                || !(await call.Service<PasswordHasher>().CheckAsync(user.Password, old, call.Aborted)).Matches))
        {
            call.Errors.Add("old_password", PasswordIncorrect);
            await throttle.RecordFailureAsync(user.Username, address, call.Aborted);
        }
        else if (counted && call.Value("old_password") is not null)
        {
            await throttle.ClearAsync(user.Username, call.Aborted);
        }
        call.Service<NewPasswordRules>().Check(call, "new_password1", "new_password2", user);
        if (call.Errors.Any)
        {
            await call.InvalidAsync();
            return;
        }
        // Every session ends with the old password; this one goes on under a new key (Django's update_session_auth_hash
        // cycles the key) and a new CSRF secret.
        var changed = await call.Service<AccountService>().ReplacePasswordAsync(user, call.Value("new_password1")!, call.Aborted);
        await call.SignInAsync(changed);
        await call.Service<AuditTrail>().RecordAsync(call.Context, AuditEventKinds.PasswordChanged, changed);
        await call.DetailAsync(StatusCodes.Status200OK, PasswordSaved);
    }

    private static async Task RequestPasswordResetAsync(AccountCall call)
    {
        if (call.Errors.Any)
        {
            await call.InvalidAsync();
            return;
        }
        call.Service<AccountMailRequests>().Request(new(AccountMailKind.PasswordReset, call.Value("email")!, call.Origin));
        await call.DetailAsync(StatusCodes.Status200OK, ResetSent);
    }

    private static async Task ConfirmPasswordResetAsync(AccountCall call)
    {
        if (call.Errors.Any || !await TryConfirmPasswordResetAsync(call))
        {
            await call.InvalidAsync();
            return;
        }
        await call.DetailAsync(StatusCodes.Status200OK, PasswordReset);
    }

    /// <summary>
    /// dj-rest-auth's order: the uid must name a user, then the token must be good for that user as they are now, then the
    /// new password must pass SetPasswordForm. True once the password is set (every session of the user ended); otherwise
    /// the call's errors say why. Postern's own reset page goes through here too.
    /// </summary>
    internal static async Task<bool> TryConfirmPasswordResetAsync(AccountCall call)
    {
        if (await FindResetUserAsync(call.Context, call.Value("uid"), call.Value("token")) is not { } found)
        {
            call.Errors.Add("uid", InvalidValue);
            return false;
        }
        if (found.User is not { } user)
        {
            call.Errors.Add("token", InvalidValue);
            return false;
        }
        call.Service<NewPasswordRules>().Check(call, "new_password1", "new_password2", user);
        if (call.Errors.Any)
            return false;
        await call.Service<AccountService>().ReplacePasswordAsync(user, call.Value("new_password1")!, call.Aborted);
        await call.Service<AuditTrail>().RecordAsync(call.Context, AuditEventKinds.PasswordReset, user);
        return true;
    }

    /// <summary>
    /// Null when the uid names nobody; a null user inside when the token is not good for the one it names. Read past the
    /// cache: the token covers the last login, which the cache may not have yet.
    /// </summary>
    internal static async Task<(User? User, bool)?> FindResetUserAsync(HttpContext context, string? uid, string? token)
    {
        var services = context.RequestServices;
        var user = ResetUid.Decode(uid) is { } id
            ? await services.GetRequiredService<IUserStore>().FindUserByIdUncachedAsync(id, context.RequestAborted)
            : null;
        if (user is null)
            return null;
        var timeout = TimeSpan.FromSeconds(services.GetRequiredService<IOptions<AccountOptions>>().Value.PasswordResetTimeoutSeconds);
        var good = services.GetRequiredService<SecretKeyRing>().PasswordResetTokens.Check(
            AccountMailWorker.PasswordResetTokenOf(user), token, services.GetRequiredService<TimeProvider>().GetUtcNow(), timeout);
        return (good ? user : null, good);
    }

    private static async Task SignupAsync(AccountCall call)
    {
        var options = call.Service<IOptions<AccountOptions>>().Value;
        if (!options.SignupEnabled)
        {
            await call.DetailAsync(StatusCodes.Status403Forbidden, SignupClosed);
            return;
        }
        var users = call.Service<IUserStore>();
        var username = call.Value("username");
        if (username is not null)
        {
            if (!AccountService.IsUsernamePattern(username))
                call.Errors.Add("username", AccountService.InvalidUsername);
            // UserCreationForm refuses a name that differs from another only in case.
            else if (await users.FindUserByUsernameIgnoringCaseAsync(username, call.Aborted) is not null)
                call.Errors.Add("username", UsernameTaken);
        }
        // UserCreationForm cleans the model before the validators compare the password with it.
        var candidate = new User(0, username ?? "", Api.EmailAddress.Normalize(call.Value("email") ?? ""), "", true, false, false, default, null);
        call.Service<NewPasswordRules>().Check(call, "password1", "password2", candidate);
        if (call.Errors.Any)
        {
            await call.InvalidAsync();
            return;
        }
        User created;
        try
        {
            created = await call.Service<AccountService>().SignUpAsync(username!, candidate.Email, call.Value("password1")!, call.Aborted);
        }
        catch (DuplicateUsernameException)
        {
            // Taken between the check and the write.
            call.Errors.Add("username", UsernameTaken);
            await call.InvalidAsync();
            return;
        }
        await call.Service<AuditTrail>().RecordAsync(call.Context, AuditEventKinds.UserCreated, created, "Signed up.");
        if (options.EmailVerification != EmailVerificationMode.None)
            call.Service<AccountMailRequests>().Request(new(AccountMailKind.VerificationOfUser, created.Email, call.Origin, created.Id));
        if (options.EmailVerification != EmailVerificationMode.Mandatory)
            await call.SignInAsync(created);
        await CurrentUserBody.WriteAsync(call.Context, StatusCodes.Status201Created, created);
    }

    private static async Task VerifyEmailAsync(AccountCall call)
    {
        if (call.Errors.Any)
        {
            await call.InvalidAsync();
            return;
        }
        if (!await VerifyAsync(call.Context, call.Value("key")!))
        {
            call.Errors.Add("key", InvalidValue);
            await call.InvalidAsync();
            return;
        }
        await call.DetailAsync(StatusCodes.Status200OK, EmailVerified);
    }

    /// <summary>Verifies the address a key names, if the key is good and the address still the user's.</summary>
    internal static async Task<bool> VerifyAsync(HttpContext context, string key)
    {
        var services = context.RequestServices;
        var timeout = TimeSpan.FromSeconds(services.GetRequiredService<IOptions<AccountOptions>>().Value.EmailVerificationTimeoutSeconds);
        var named = EmailVerificationKey.Read(
            services.GetRequiredService<SecretKeyRing>(), key, services.GetRequiredService<TimeProvider>().GetUtcNow(), timeout);
        var users = services.GetRequiredService<IUserStore>();
        if (named is not { } address || !await users.MarkEmailVerifiedAsync(address.UserId, address.Email, context.RequestAborted))
            return false;
        if (await users.FindUserByIdAsync(address.UserId, context.RequestAborted) is { } user)
            await services.GetRequiredService<AuditTrail>().RecordAsync(context, AuditEventKinds.EmailVerified, user, address.Email);
        return true;
    }

    private static async Task ResendVerificationAsync(AccountCall call)
    {
        if (call.Errors.Any)
        {
            await call.InvalidAsync();
            return;
        }
        if (call.Service<IOptions<AccountOptions>>().Value.EmailVerification != EmailVerificationMode.None)
            call.Service<AccountMailRequests>().Request(new(AccountMailKind.Verification, call.Value("email")!, call.Origin));
        await call.DetailAsync(StatusCodes.Status200OK, VerificationSent);
    }
}
