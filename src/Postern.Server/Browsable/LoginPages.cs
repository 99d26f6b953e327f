using Postern.Protocol;
using Postern.Server.Accounts;
using Postern.Server.Csrf;
using Postern.Server.Http;
using Postern.Server.Sessions;
using Postern.Server.Throttling;

namespace Postern.Server.Browsable;

/// <summary>
/// <c>/api-auth/login/</c> and <c>/api-auth/logout/</c>, the form login of DRF's browsable API
/// (Django's LoginView and LogoutView): a form with a hidden <c>csrfmiddlewaretoken</c>, a 302 back
/// to <c>next</c> on success, the form again with an error otherwise.
/// </summary>
public static class LoginPages
{
    public const string LoginPath = "/api-auth/login/";
    public const string LogoutPath = "/api-auth/logout/";
    private const string InvalidLogin = "Please enter a correct username and password. Note that both fields may be case-sensitive.";

    public static IEndpointRouteBuilder MapLoginPages(this IEndpointRouteBuilder app)
    {
        app.Map(LoginPath, LoginAsync).RequireCsrf();
        app.Map(LogoutPath, LogoutAsync).RequireCsrf();
        return app;
    }

    private static async Task LoginAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Method == "GET")
        {
            await WriteFormAsync(context, StatusCodes.Status200OK, request.Query["next"].LastOrDefault(), "", null);
            return;
        }
        if (request.Method != "POST")
        {
            await JsonResponses.WriteMethodNotAllowedAsync(context, "GET, POST");
            return;
        }
        var form = request.HasFormContentType ? await RequestForm.TryReadAsync(request, context.RequestAborted) : null;
        var username = form?["username"].LastOrDefault() ?? "";
        var password = form?["password"].LastOrDefault() ?? "";
        var code = form?["code"].LastOrDefault();
        var next = form?["next"].LastOrDefault() ?? request.Query["next"].LastOrDefault();
        var flow = context.RequestServices.GetRequiredService<LoginFlow>();
        // The second step of a login with two-factor authentication: the code form posts only the code.
        var result = code is not null ? await flow.CompleteWithCodeAsync(context, code)
            // Django's AuthenticationForm: an empty field never reaches authenticate().
            : username.Length > 0 && password.Length > 0 ? await flow.SignInAsync(context, username, password)
            : new LoginResult(LoginOutcome.Refused);
        if (result.Outcome == LoginOutcome.Throttled)
        {
            context.Response.Headers.RetryAfter = result.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WriteFormAsync(context, StatusCodes.Status429TooManyRequests, next, username, LoginThrottle.Detail(result.RetryAfterSeconds));
            return;
        }
        if (result.Outcome == LoginOutcome.MfaRequired || (code is not null && result.Outcome == LoginOutcome.Refused))
        {
            await WriteCodeFormAsync(context, next, code is null ? null : TwoFactor.SecondFactor.IncorrectCode);
            return;
        }
        if (result.Outcome == LoginOutcome.NoPendingLogin)
        {
            await WriteFormAsync(context, StatusCodes.Status200OK, next, "", LoginFlow.NoPendingLogin);
            return;
        }
        if (result.Outcome != LoginOutcome.SignedIn)
        {
            await WriteFormAsync(context, StatusCodes.Status200OK, next, username,
                result.Outcome == LoginOutcome.EmailNotVerified ? LoginFlow.EmailNotVerified : InvalidLogin);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = Html.SafeNext(next, "/api/");
        context.Response.ContentLength = 0;
    }

    private static async Task LogoutAsync(HttpContext context)
    {
        if (context.Request.Method != "POST")
        {
            // As Django >= 5.0's LogoutView: a GET cannot log anybody out (logout CSRF).
            await JsonResponses.WriteMethodNotAllowedAsync(context, "POST");
            return;
        }
        if (await context.GetRequestSession().LogoutAsync() is { } user)
            await context.RequestServices.GetRequiredService<Audit.AuditTrail>().RecordAsync(context, Protocol.AuditEventKinds.Logout, user);
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = Html.SafeNext(context.Request.Query["next"].LastOrDefault(), "/api/");
        context.Response.ContentLength = 0;
    }

    /// <summary>The second step for a user with two-factor authentication: the code from the app, or a recovery code.</summary>
    private static async Task WriteCodeFormAsync(HttpContext context, string? next, string? error)
    {
        var token = context.GetCsrfCookie().GetToken();
        var back = Html.SafeNext(next, "/api/");
        var html = HtmlPages.Begin("Log in").Raw("<body><header class=\"navbar\"><div class=\"container\">")
            .Raw("<a class=\"brand\" href=\"/api/\">Postern API</a></div></header><main class=\"login\"><h1>Two-factor authentication</h1>");
        html.Raw("<form method=\"post\" action=\"").Raw(LoginPath).Raw("\" id=\"code-form\" class=\"well\">");
        if (error is not null)
            html.Raw("<div class=\"form-errors\" id=\"login-error\" role=\"alert\">").Text(error).Raw("</div>");
        html.Raw("<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"").Text(token).Raw("\">")
            .Raw("<input type=\"hidden\" name=\"next\" value=\"").Text(back).Raw("\">")
            .Raw("<div class=\"form-group\"><label for=\"id_code\">Code from your authenticator app, or a recovery code</label>")
            .Raw("<div class=\"control\"><input type=\"text\" name=\"code\" id=\"id_code\" autocomplete=\"one-time-code\"")
            .Raw(" autocapitalize=\"none\" maxlength=\"64\" required autofocus></div></div>")
            .Raw("<button type=\"submit\" class=\"primary\" id=\"submit-id-submit\">Verify</button></form>")
            .Raw("<p class=\"back\"><a id=\"back-link\" href=\"").Text(back).Raw("\">Back to ").Text(back).Raw("</a></p>")
            .Raw("</main></body></html>");
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.CacheControl = "max-age=0, no-cache, no-store, must-revalidate, private";
        await HtmlPages.SendAsync(context, html);
    }

    /// <summary>Django's login form, styled as the API's pages, with a way back to where the visitor came from.</summary>
    private static async Task WriteFormAsync(HttpContext context, int status, string? next, string username, string? error)
    {
        var token = context.GetCsrfCookie().GetToken();
        var back = Html.SafeNext(next, "/api/");
        var html = HtmlPages.Begin("Log in").Raw("<body><header class=\"navbar\"><div class=\"container\">")
            .Raw("<a class=\"brand\" href=\"/api/\">Postern API</a></div></header><main class=\"login\"><h1>Log in</h1>");
        html.Raw("<form method=\"post\" action=\"").Raw(LoginPath).Raw("\" id=\"login-form\" class=\"well\">");
        if (error is not null)
            html.Raw("<div class=\"form-errors\" id=\"login-error\" role=\"alert\">").Text(error).Raw("</div>");
        html.Raw("<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"").Text(token).Raw("\">")
            .Raw("<input type=\"hidden\" name=\"next\" value=\"").Text(back).Raw("\">")
            .Raw("<div class=\"form-group\"><label for=\"id_username\">Username</label><div class=\"control\">")
            .Raw("<input type=\"text\" name=\"username\" id=\"id_username\" autocomplete=\"username\" autocapitalize=\"none\"")
            .Raw(" maxlength=\"150\"")
            .Raw(" value=\"").Text(username).Raw("\" required autofocus></div></div>")
            .Raw("<div class=\"form-group\"><label for=\"id_password\">Password</label><div class=\"control\">")
            .Raw("<input type=\"password\" name=\"password\" id=\"id_password\" autocomplete=\"current-password\" required></div></div>")
            .Raw("<button type=\"submit\" class=\"primary\" id=\"submit-id-submit\">Log in</button></form>")
            .Raw("<p class=\"back\"><a id=\"back-link\" href=\"").Text(back).Raw("\">Back to ").Text(back).Raw("</a></p>")
            .Raw("</main></body></html>");
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "max-age=0, no-cache, no-store, must-revalidate, private";
        await HtmlPages.SendAsync(context, html);
    }
}
