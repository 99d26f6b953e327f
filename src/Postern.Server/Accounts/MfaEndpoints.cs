using Postern.Protocol;
using Postern.Server.Audit;
using Postern.Server.Http;
using Postern.Server.Sessions;
using Postern.Server.Storage;
using Postern.Server.Throttling;
using Postern.Server.TwoFactor;

namespace Postern.Server.Accounts;

/// <summary>
/// Two-factor authentication (TOTP and recovery codes) and reauthentication, each one <see cref="AccountEndpoint"/>
/// declaration (docs/accounts.md): what a user has, setting up and turning on an authenticator, turning it off, new
/// recovery codes, the second step of a login, and reauthenticating a session for the sensitive actions.
/// </summary>
public static class MfaEndpoints
{
    public const string AlreadyOn = "Two-factor authentication is already on.";
    public const string NotOn = "Two-factor authentication is not on.";
    public const string NothingSetUp = "No authenticator is being set up: POST /auth/mfa/totp/setup first.";
    public const string TurnedOn = "Two-factor authentication is on.";
    public const string TurnedOff = "Two-factor authentication is off.";
    public const string Reauthenticated = "Reauthenticated.";
    public const string PasswordOrCode = "Enter your password or a code.";
    public const string IncorrectPassword = "Incorrect password.";
    public const string SignedIn = "Successfully logged in.";

    private static readonly AccountAnswer NotSignedIn = new(403, "Not signed in, or a CSRF failure.", AuthEndpoints.NotAuthenticated);
    private static readonly AccountAnswer ReauthenticationNeeded =
        new(401, "The session's last authentication is older than Postern:Accounts:ReauthSeconds: POST /auth/reauthenticate first.",
            AccountEndpoint.ReauthenticationRequired);
    private static readonly AccountAnswer CodeRefused = new(400, "Field errors, DRF's shape: {\"code\": [\"Incorrect code.\"]}.");
    private static readonly BodyProperty RecoveryCodeList = new("recovery_codes", BodyPropertyKind.TextList,
        $"{RecoveryCodes.Count} new single-use codes, each good once in place of a TOTP code; shown only now.");

    public static readonly AccountEndpoint Status = new()
    {
        Path = EndpointPaths.Mfa,
        Method = "GET",
        OperationId = "getMfa",
        Summary = "What you have of two-factor authentication",
        Description = "Whether TOTP is on, since when, and how many recovery codes are left.",
        RequiresSignIn = true,
        TokenRefusal = AccountEndpoint.TokenCannotReauthenticate,
        Answers =
        [
            new(200, "The state.")
            {
                Body =
                [
                    new("totp_enabled", BodyPropertyKind.Boolean, "Whether logins ask for a code."),
                    new("totp_activated_at", BodyPropertyKind.DateTime, "When it was turned on.", Nullable: true),
                    new("recovery_codes_left", BodyPropertyKind.WholeNumber, "Unused recovery codes."),
                ],
            },
            NotSignedIn,
        ],
        Handle = GetStatusAsync,
    };

    public static readonly AccountEndpoint TotpSetup = new()
    {
        Path = EndpointPaths.TotpSetup,
        OperationId = "setUpTotp",
        Summary = "Set up an authenticator app",
        Description = "A new secret, as text, as an otpauth:// URL and as a QR code (SVG); nothing changes for logins until "
            + "POST /auth/mfa/totp/activate confirms it with a code. Setting up again replaces a secret not yet confirmed.",
        RequiresSignIn = true,
        TokenRefusal = AccountEndpoint.TokenCannotReauthenticate,
        Answers =
        [
            new(200, "The secret.")
            {
                Body =
                [
                    new("secret", BodyPropertyKind.Text, "The secret, base32, for apps that take it typed in."),
                    new("otpauth_url", BodyPropertyKind.Text, "The otpauth://totp/ URL (issuer Postern:TwoFactor:TotpIssuer)."),
                    new("qr_code_svg", BodyPropertyKind.Text, "The URL as a QR code: an SVG document."),
                ],
            },
            new(409, "Two-factor authentication is already on.", AlreadyOn),
            NotSignedIn,
        ],
        Handle = SetUpTotpAsync,
    };

    public static readonly AccountEndpoint TotpActivate = new()
    {
        Path = EndpointPaths.TotpActivate,
        OperationId = "activateTotp",
        Summary = "Turn two-factor authentication on with a first code",
        Description = "The code the app shows for the secret just set up. Logins then ask for a code; the answer carries the "
            + "first recovery codes.",
        RequiresSignIn = true,
        TokenRefusal = AccountEndpoint.TokenCannotReauthenticate,
        Fields = [new("code") { MaxLength = 64, Description = "The 6-digit code the app shows." }],
        Answers =
        [
            new(200, "On.", TurnedOn) { Body = [new("detail", BodyPropertyKind.Text, TurnedOn), RecoveryCodeList] },
            CodeRefused,
            new(409, "Already on, or nothing set up.", AlreadyOn, NothingSetUp),
            NotSignedIn,
        ],
        Handle = ActivateTotpAsync,
    };

    public static readonly AccountEndpoint TotpDeactivate = new()
    {
        Path = EndpointPaths.Totp,
        Method = "DELETE",
        OperationId = "deactivateTotp",
        Summary = "Turn two-factor authentication off",
        Description = "The secret and the recovery codes are deleted. Needs a recent authentication.",
        RequiresRecentAuthentication = true,
        Answers = [new(200, "Off.", TurnedOff), ReauthenticationNeeded, new(409, "It was not on.", NotOn), NotSignedIn],
        Handle = DeactivateTotpAsync,
    };

    public static readonly AccountEndpoint RecoveryCodesRenewal = new()
    {
        Path = EndpointPaths.RecoveryCodes,
        OperationId = "renewRecoveryCodes",
        Summary = "New recovery codes",
        Description = "Replaces every recovery code. Needs a recent authentication.",
        RequiresRecentAuthentication = true,
        Answers = [new(200, "The new codes.") { Body = [RecoveryCodeList] }, ReauthenticationNeeded, new(409, "TOTP is not on.", NotOn), NotSignedIn],
        Handle = RenewRecoveryCodesAsync,
    };

    public static readonly AccountEndpoint Authenticate = new()
    {
        Path = EndpointPaths.MfaAuthenticate,
        OperationId = "authenticateMfa",
        Summary = "Complete a login with a code",
        Description = "After POST /auth/login answered 401 with mfa_required: a TOTP code or a recovery code signs the user in "
            + "as the login would have (a new session key, a rotated CSRF secret). Wrong codes count toward the account's "
            + "lockout; the pending login lasts Postern:TwoFactor:LoginTimeoutSeconds.",
        Fields = [new("code") { MaxLength = 64, Description = "A 6-digit TOTP code, or a recovery code." }],
        Answers =
        [
            new(200, "Signed in.", SignedIn)
            {
                Body = [new("detail", BodyPropertyKind.Text, SignedIn), new("username", BodyPropertyKind.Text, "Who signed in.")],
            },
            CodeRefused,
            new(401, "No login waits for a code.", LoginFlow.NoPendingLogin),
            new(403, "A CSRF failure."),
            new(429, "The account or address is locked."),
        ],
        Handle = AuthenticateAsync,
    };

    public static readonly AccountEndpoint Reauthenticate = new()
    {
        Path = EndpointPaths.Reauthenticate,
        OperationId = "reauthenticate",
        Summary = "Reauthenticate the session",
        Description = "The password, or (with two-factor authentication on) a code, opens the window of "
            + "Postern:Accounts:ReauthSeconds for the sensitive actions. The session goes on under a new key. Wrong answers "
            + "count toward the account's lockout.",
        RequiresSignIn = true,
        TokenRefusal = AccountEndpoint.TokenCannotReauthenticate,
        Fields =
        [
            new("password", FormFieldKind.Password) { Required = false },
            new("code") { Required = false, MaxLength = 64, Description = "A TOTP code or a recovery code." },
        ],
        Answers =
        [
            new(200, "Reauthenticated.", Reauthenticated)
            {
                Body =
                [
                    new("detail", BodyPropertyKind.Text, Reauthenticated),
                    new("reauthentication_seconds_left", BodyPropertyKind.WholeNumber, "How long the window now lasts."),
                ],
            },
            new(400, "Field errors: an incorrect password or code, or neither given."),
            NotSignedIn,
            new(429, "The account or address is locked."),
        ],
        Handle = ReauthenticateAsync,
    };

    public static IReadOnlyList<AccountEndpoint> All { get; } =
        [Status, TotpSetup, TotpActivate, TotpDeactivate, RecoveryCodesRenewal, Authenticate, Reauthenticate];

    private static async Task GetStatusAsync(AccountCall call)
    {
        var state = await call.Service<MfaStore>().GetAsync(call.User!.Id, call.Aborted);
        var activatedAt = state.Totp?.ActivatedAt;
        call.Context.Response.StatusCode = StatusCodes.Status200OK;
        await JsonResponses.SendAsync(call.Context, (activatedAt, state.RecoveryCodesLeft), static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean("totp_enabled", s.activatedAt is not null);
            if (s.activatedAt is { } at)
                writer.WriteString("totp_activated_at", Api.IsoDateTime.Format(at));
            else
                writer.WriteNull("totp_activated_at");
            writer.WriteNumber("recovery_codes_left", s.RecoveryCodesLeft);
            writer.WriteEndObject();
        });
    }

    private static async Task SetUpTotpAsync(AccountCall call)
    {
        var user = call.User!;
        var secret = TotpAuthenticator.NewSecret();
        var sealedSecret = call.Service<SecretKeyRing>().TotpSecrets.Seal(secret, user.Id);
        if (!await call.Service<MfaStore>().SaveSetupAsync(user.Id, sealedSecret, call.Service<TimeProvider>().GetUtcNow(), call.Aborted))
        {
            await call.DetailAsync(StatusCodes.Status409Conflict, AlreadyOn);
            return;
        }
        var url = call.Service<TotpAuthenticator>().OtpauthUrl(secret, user.Username);
        call.Context.Response.StatusCode = StatusCodes.Status200OK;
        call.Context.Response.Headers.CacheControl = "no-store";
        await JsonResponses.SendAsync(call.Context, (TotpAuthenticator.ToBase32(secret), url), static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteString("secret", s.Item1);
            writer.WriteString("otpauth_url", s.url);
            writer.WriteString("qr_code_svg", TotpAuthenticator.QrCodeSvg(s.url));
            writer.WriteEndObject();
        });
    }

    private static async Task ActivateTotpAsync(AccountCall call)
    {
        if (call.Errors.Any)
        {
            await call.InvalidAsync();
            return;
        }
        var user = call.User!;
        var store = call.Service<MfaStore>();
        var state = await store.GetAsync(user.Id, call.Aborted);
        if (state.Totp is not { } totp)
        {
            await call.DetailAsync(StatusCodes.Status409Conflict, NothingSetUp);
            return;
        }
        if (totp.IsActive)
        {
            await call.DetailAsync(StatusCodes.Status409Conflict, AlreadyOn);
            return;
        }
        var secret = call.Service<SecretKeyRing>().TotpSecrets.Open(totp.SealedSecret, user.Id);
        if (secret is null || call.Service<TotpAuthenticator>().MatchingStep(secret, call.Value("code")!) is not { } step)
        {
            call.Errors.Add("code", SecondFactor.IncorrectCode);
            await call.InvalidAsync();
            return;
        }
        var codes = RecoveryCodes.New();
        if (!await store.ActivateAsync(user.Id, step, [.. codes.Select(c => RecoveryCodes.Hash(RecoveryCodes.Normalize(c)!))],
                call.Service<TimeProvider>().GetUtcNow(), call.Aborted))
        {
            await call.DetailAsync(StatusCodes.Status409Conflict, AlreadyOn);
            return;
        }
        await call.Service<AuditTrail>().RecordAsync(call.Context, AuditEventKinds.MfaEnabled, user, "TOTP");
        await WriteCodesAsync(call, TurnedOn, codes);
    }

    private static async Task DeactivateTotpAsync(AccountCall call)
    {
        if (!await call.Service<MfaStore>().DeleteAsync(call.User!.Id, call.Aborted))
        {
            await call.DetailAsync(StatusCodes.Status409Conflict, NotOn);
            return;
        }
        await call.Service<AuditTrail>().RecordAsync(call.Context, AuditEventKinds.MfaDisabled, call.User!, "TOTP");
        await call.DetailAsync(StatusCodes.Status200OK, TurnedOff);
    }

    private static async Task RenewRecoveryCodesAsync(AccountCall call)
    {
        var codes = RecoveryCodes.New();
        if (!await call.Service<MfaStore>().ReplaceRecoveryCodesAsync(call.User!.Id,
                [.. codes.Select(c => RecoveryCodes.Hash(RecoveryCodes.Normalize(c)!))], call.Service<TimeProvider>().GetUtcNow(), call.Aborted))
        {
            await call.DetailAsync(StatusCodes.Status409Conflict, NotOn);
            return;
        }
        await call.Service<AuditTrail>().RecordAsync(call.Context, AuditEventKinds.RecoveryCodesGenerated, call.User!);
        await WriteCodesAsync(call, detail: null, codes);
    }

    private static Task WriteCodesAsync(AccountCall call, string? detail, IReadOnlyList<string> codes)
    {
        call.Context.Response.StatusCode = StatusCodes.Status200OK;
        call.Context.Response.Headers.CacheControl = "no-store";
        return JsonResponses.SendAsync(call.Context, (detail, codes), static (writer, s) =>
        {
            writer.WriteStartObject();
            if (s.detail is not null)
                writer.WriteString("detail", s.detail);
            writer.WriteStartArray("recovery_codes");
            foreach (var code in s.codes)
                writer.WriteStringValue(code);
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    private static async Task AuthenticateAsync(AccountCall call)
    {
        if (call.Errors.Any)
        {
            await call.InvalidAsync();
            return;
        }
        var result = await call.Service<LoginFlow>().CompleteWithCodeAsync(call.Context, call.Value("code")!);
        switch (result.Outcome)
        {
            case LoginOutcome.SignedIn:
                call.Context.Response.StatusCode = StatusCodes.Status200OK;
                await JsonResponses.SendAsync(call.Context, result.User!.Username, static (writer, username) =>
                {
                    writer.WriteStartObject();
                    writer.WriteString("detail", SignedIn);
                    writer.WriteString("username", username);
                    writer.WriteEndObject();
                });
                return;
            case LoginOutcome.Throttled:
                await ThrottledAsync(call, result.RetryAfterSeconds);
                return;
            case LoginOutcome.NoPendingLogin:
                await call.DetailAsync(StatusCodes.Status401Unauthorized, LoginFlow.NoPendingLogin);
                return;
            default:
                call.Errors.Add("code", SecondFactor.IncorrectCode);
                await call.InvalidAsync();
                return;
        }
    }

    private static async Task ReauthenticateAsync(AccountCall call)
    {
        var password = call.Value("password") is { Length: > 0 } p ? p : null;
        var code = call.Value("code") is { Length: > 0 } c ? c : null;
        if (!call.Errors.Any && password is null && code is null)
            call.Errors.Add("non_field_errors", PasswordOrCode);
        if (call.Errors.Any)
        {
            await call.InvalidAsync();
            return;
        }
        var user = call.User!;
        var context = call.Context;
        var throttle = call.Service<LoginThrottle>();
        var address = context.Connection.RemoteIpAddress;
        var (wait, counted) = await throttle.CheckAsync(user.Username, address, call.Aborted);
        if (wait > 0)
        {
            await ThrottledAsync(call, wait);
            return;
        }
        var good = password is not null
            ? password.Length <= DjangoPasswordHash.MaxPasswordLength
                && (await call.Service<PasswordHasher>().CheckAsync(user.Password, password, call.Aborted)).Matches
            : await call.Service<SecondFactor>().VerifyAsync(user, code!, call.Aborted);
        if (!good)
        {
            await throttle.RecordFailureAsync(user.Username, address, call.Aborted);
            call.Errors.Add(password is not null ? "password" : "code", password is not null ? IncorrectPassword : SecondFactor.IncorrectCode);
            await call.InvalidAsync();
            return;
        }
        if (counted)
            await throttle.ClearAsync(user.Username, call.Aborted);
        // A new session: its age is the age of the last authentication (AccountEndpoint.IsRecent).
        if (!await context.GetRequestSession().LoginAsync(user))
        {
            await call.DetailAsync(StatusCodes.Status403Forbidden, AuthEndpoints.NotAuthenticated);
            return;
        }
        await call.Service<AuditTrail>().RecordAsync(context, AuditEventKinds.Reauthenticated, user,
            password is not null ? "With the password." : "With a code.");
        var left = call.Service<Microsoft.Extensions.Options.IOptions<AccountOptions>>().Value.ReauthSeconds;
        context.Response.StatusCode = StatusCodes.Status200OK;
        await JsonResponses.SendAsync(context, left, static (writer, seconds) =>
        {
            writer.WriteStartObject();
            writer.WriteString("detail", Reauthenticated);
            writer.WriteNumber("reauthentication_seconds_left", seconds);
            writer.WriteEndObject();
        });
    }

    private static Task ThrottledAsync(AccountCall call, int wait)
    {
        call.Context.Response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return call.DetailAsync(StatusCodes.Status429TooManyRequests, LoginThrottle.Detail(wait));
    }
}
