using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Csrf;
using Postern.Server.Http;
using Postern.Server.Sessions;
using Postern.Server.Throttling;

namespace Postern.Server.Accounts;

/// <summary>Named as the peer names it: <c>csrfToken</c>.</summary>
public sealed record CsrfTokenBody([property: System.Text.Json.Serialization.JsonPropertyName("csrfToken")] string CsrfToken);

public sealed record LoginSucceededBody(string Detail, string Username);

/// <summary>The signed-in user as <c>GET /auth/user</c> shows it (and sign-up, and <c>PATCH /auth/user</c>).</summary>
/// <param name="ReauthenticationSecondsLeft">
/// How long this session's last authentication still counts for the sensitive actions (<see
/// cref="AccountEndpoint.RequiresRecentAuthentication"/>), so that a frontend can ask for the password ahead; 0 when closed.
/// </param>
public sealed record CurrentUserBody(
    string Url, string Username, string Email, string FirstName, string LastName, bool IsStaff, bool EmailVerified,
    int ReauthenticationSecondsLeft)
{
    public static async Task WriteAsync(HttpContext context, int status, Storage.User user)
    {
        var services = context.RequestServices;
        var verified = user.Email.Length > 0
            && await services.GetRequiredService<Storage.IUserStore>().FindVerifiedEmailAsync(user.Id, context.RequestAborted) == user.Email;
        // A request by API token has no session, and never a reauthentication window.
        var windowLeft = await context.GetRequestUser().GetAsync() is { Session: { } session } current && current.User.Id == user.Id
            ? AccountEndpoint.ReauthenticationSecondsLeft(context, session)
            : 0;
        await JsonResponses.WriteAsync(context, status,
            new CurrentUserBody(services.GetRequiredService<IUserLinks>().UserUrl(context.Request, user.Id),
                user.Username, user.Email, user.FirstName, user.LastName, user.IsStaff, verified, windowLeft),
            AccountsJsonContext.Wire.CurrentUserBody);
    }
}

/// <summary>The account endpoints' bodies, generated at compile time, written as every other body is (snake_case, UTF-8).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CsrfTokenBody))]
[JsonSerializable(typeof(LoginSucceededBody))]
[JsonSerializable(typeof(CurrentUserBody))]
internal sealed partial class AccountsJsonContext : JsonSerializerContext
{
    public static AccountsJsonContext Wire { get; } = new(PosternJsonContext.WireOptions);
}

/// <summary>
/// The seed's <c>/auth/</c> endpoints. Each answers with and without a trailing slash, checks CSRF on
/// every unsafe method before anything else (as Django's middleware does for plain views), and only
/// then answers a wrong method with 405.
/// </summary>
public static class AuthEndpoints
{
    public const string NotAuthenticated = "Authentication credentials were not provided.";
    public const string TokenCannotLogIn = "A request authenticated by an API token cannot log in.";
    public const string TokenCannotLogOut = "An API token is not a session: revoke it with DELETE /api/tokens/{id}/ instead.";

    public static IEndpointRouteBuilder MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        Map(app, EndpointPaths.Csrf, GetCsrfTokenAsync);
        Map(app, EndpointPaths.Login, LoginAsync);
        Map(app, EndpointPaths.Logout, LogoutAsync);
        Map(app, EndpointPaths.User, CurrentUserAsync);
        return app;
    }

    // Routing matches "/auth/login" and "/auth/login/" alike.
    private static void Map(IEndpointRouteBuilder app, string path, RequestDelegate handler) =>
        app.Map(path, handler).RequireCsrf();

    /// <summary>
    /// GET /auth/csrf: a freshly masked token, in the body and a header, and the cookie (same secret if the visitor had
    /// a valid one).
    /// </summary>
    private static Task GetCsrfTokenAsync(HttpContext context)
    {
        if (context.Request.Method != "GET")
            return JsonResponses.WriteMethodNotAllowedAsync(context, "GET");
        var token = context.GetCsrfCookie().GetToken();
        context.Response.Headers[HeaderNames.CsrfToken] = token;
        return JsonResponses.WriteAsync(context, StatusCodes.Status200OK, new CsrfTokenBody(token), AccountsJsonContext.Wire.CsrfTokenBody);
    }

    /// <summary>POST /auth/login: credentials → a brand-new session and a rotated CSRF secret.</summary>
    private static async Task LoginAsync(HttpContext context)
    {
        if (context.Request.Method != "POST")
        {
            await JsonResponses.WriteMethodNotAllowedAsync(context, "POST");
            return;
        }
        if (await context.GetRequestUser().IsByTokenAsync())
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, TokenCannotLogIn);
            return;
        }
        var credentials = await LoginRequest.ReadAsync(context.Request, context.RequestAborted);
        if (credentials.Malformed)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status400BadRequest, "Malformed request body.");
            return;
        }
        if (credentials is not { Username: { Length: > 0 } username, Password: { } password })
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status400BadRequest, "Both username and password are required.");
            return;
        }
        var (outcome, user, wait) = await context.RequestServices.GetRequiredService<LoginFlow>().SignInAsync(context, username, password);
        if (outcome == LoginOutcome.Throttled)
        {
            // DRF's answer to a throttled request.
            context.Response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status429TooManyRequests, LoginThrottle.Detail(wait));
            return;
        }
        if (outcome == LoginOutcome.PasswordTooLong)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status400BadRequest,
                $"Ensure the password has no more than {DjangoPasswordHash.MaxPasswordLength} characters.");
            return;
        }
        if (outcome == LoginOutcome.EmailNotVerified)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, LoginFlow.EmailNotVerified);
            return;
        }
        if (outcome == LoginOutcome.Refused)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status401Unauthorized, "Invalid username or password.");
            return;
        }
        if (outcome == LoginOutcome.MfaRequired)
        {
            // Said only to whoever knows the password; POST /auth/mfa/authenticate with a code completes the login.
            await JsonResponses.WriteFlaggedDetailAsync(context, StatusCodes.Status401Unauthorized, LoginFlow.MfaRequired, "mfa_required");
            return;
        }
        await JsonResponses.WriteAsync(context, StatusCodes.Status200OK, new LoginSucceededBody("Successfully logged in.", user!.Username),
            AccountsJsonContext.Wire.LoginSucceededBody);
    }

    /// <summary>GET (as the seed documents; optional) and POST /auth/logout: ends the session server-side and expires the cookie.</summary>
    private static async Task LogoutAsync(HttpContext context)
    {
        var allowsGet = context.RequestServices.GetRequiredService<IOptions<AccountOptions>>().Value.LogoutAllowsGet;
        var method = context.Request.Method;
        if (!(method == "POST" || (allowsGet && method == "GET")))
        {
            await JsonResponses.WriteMethodNotAllowedAsync(context, allowsGet ? "GET, POST" : "POST");
            return;
        }
        // A GET is not CSRF-checked: another site's <img> or link must not end the session.
        if (method == "GET" && context.RequestServices.GetRequiredService<CsrfRules>().RejectCrossSiteFetch(context.Request) is { } reason)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, CsrfProtection.RefusalPrefix + reason);
            return;
        }
        // A token is not a session: it ends by its revocation, and its request must not end a session a cookie names.
        if (await context.GetRequestUser().IsByTokenAsync())
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, TokenCannotLogOut);
            return;
        }
        if (await context.GetRequestSession().LogoutAsync() is { } user)
            await context.RequestServices.GetRequiredService<Audit.AuditTrail>().RecordAsync(context, AuditEventKinds.Logout, user);
        await JsonResponses.WriteDetailAsync(context, StatusCodes.Status200OK, "Successfully logged out.");
    }

    /// <summary>
    /// GET /auth/user: who the session belongs to, or 403 as DRF answers anonymous requests under session auth. PATCH
    /// changes the user's own profile (<see cref="ProfileUpdate"/>).
    /// </summary>
    private static async Task CurrentUserAsync(HttpContext context)
    {
        if (context.Request.Method == "PATCH")
        {
            await ProfileUpdate.RunAsync(context);
            return;
        }
        if (context.Request.Method != "GET")
        {
            await JsonResponses.WriteMethodNotAllowedAsync(context, "GET, PATCH");
            return;
        }
        var user = await context.GetRequestUser().GetUserAsync();
        if (user is null)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, NotAuthenticated);
            return;
        }
        await CurrentUserBody.WriteAsync(context, StatusCodes.Status200OK, user);
    }

    /// <summary>
    /// PATCH /auth/user: the user's own e-mail address and names (other fields are read-only and ignored). A new address is
    /// unverified until its link is followed, and gets one unless verification is off.
    /// </summary>
    public static readonly AccountEndpoint ProfileUpdate = new()
    {
        Path = EndpointPaths.User,
        Method = "PATCH",
        OperationId = "updateCurrentUser",
        Summary = "Change your e-mail address or names",
        Description = "Only the fields sent change. A new address is unverified until its link is followed.",
        RequiresSignIn = true,
        // The address is where password resets go: changing it is changing the password, one e-mail later.
        TokenRefusal = "An API token cannot change the e-mail address or names: sign in with a session.",
        Partial = true,
        Fields =
        [
            new("email", FormFieldKind.Email) { MaxLength = AccountEndpoints.MaxEmailLength },
            new("first_name") { MaxLength = 150 },
            new("last_name") { MaxLength = 150 },
        ],
        Answers = [new(200, "The user, as GET shows it."), new(400, "Field errors."), new(403, "Not signed in, or a CSRF failure.")],
        Handle = UpdateProfileAsync,
    };

    private static async Task UpdateProfileAsync(AccountCall call)
    {
        if (call.Errors.Any)
        {
            await call.InvalidAsync();
            return;
        }
        var user = call.User!;
        var email = call.Value("email") is { } sent ? Api.EmailAddress.Normalize(sent) : null;
        var changes = new Storage.UserChanges(Email: email)
        {
            FirstName = call.Value("first_name"),
            LastName = call.Value("last_name"),
        };
        var updated = await call.Service<Storage.IUserStore>().UpdateUserAsync(user.Id, changes, call.Aborted);
        if (updated is null)
        {
            await call.DetailAsync(StatusCodes.Status403Forbidden, NotAuthenticated);
            return;
        }
        if (email is { Length: > 0 } && email != user.Email
            && call.Service<IOptions<AccountOptions>>().Value.EmailVerification != EmailVerificationMode.None)
        {
            call.Service<AccountMailRequests>().Request(new(AccountMailKind.VerificationOfUser, email, call.Origin, user.Id));
        }
        if (email is not null && email != user.Email)
            await call.Service<Audit.AuditTrail>().RecordAsync(call.Context, AuditEventKinds.EmailChanged, updated.User, $"From {user.Email} to {email}.");
        await CurrentUserBody.WriteAsync(call.Context, StatusCodes.Status200OK, updated.User);
    }
}
