using System.Text;
using Postern.Protocol;
using Postern.Server.Accounts;
using Postern.Server.Csrf;
using Postern.Server.Http;
using Postern.Server.Sessions;

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
        var next = form?["next"].LastOrDefault() ?? request.Query["next"].LastOrDefault();
        // Django's AuthenticationForm: an empty field never reaches authenticate().
        var outcome = username.Length > 0 && password.Length > 0
            ? (await context.RequestServices.GetRequiredService<LoginFlow>().SignInAsync(context, username, password)).Outcome
            : LoginOutcome.Refused;
        if (outcome != LoginOutcome.SignedIn)
        {
            await WriteFormAsync(context, StatusCodes.Status200OK, next, username, InvalidLogin);
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
        await context.GetRequestSession().LogoutAsync();
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = Html.SafeNext(context.Request.Query["next"].LastOrDefault(), "/api/");
        context.Response.ContentLength = 0;
    }

    private static async Task WriteFormAsync(HttpContext context, int status, string? next, string username, string? error)
    {
        var token = context.GetCsrfCookie().GetToken();
        var html = new Html();
        html.Raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Log in – Postern API</title>").Raw(Html.Style)
            .Raw("</head><body><header><a class=\"brand\" href=\"/api/\">Postern API</a></header><main><h1>Log in</h1>");
        if (error is not null)
            html.Raw("<p class=\"error\" id=\"login-error\">").Text(error).Raw("</p>");
        html.Raw("<form method=\"post\" action=\"").Raw(LoginPath).Raw("\" id=\"login-form\">")
            .Raw("<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"").Text(token).Raw("\">")
            .Raw("<input type=\"hidden\" name=\"next\" value=\"").Text(Html.SafeNext(next, "/api/")).Raw("\">")
            .Raw("<label>Username <input type=\"text\" name=\"username\" id=\"id_username\" autocomplete=\"username\" maxlength=\"150\" value=\"").Text(username).Raw("\" required></label>")
            .Raw("<label>Password <input type=\"password\" name=\"password\" id=\"id_password\" autocomplete=\"current-password\" required></label>")
            .Raw("<p><button type=\"submit\" id=\"submit-id-submit\">Log in</button></p></form></main></body></html>");
        var bytes = Encoding.UTF8.GetBytes(html.ToString());
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "max-age=0, no-cache, no-store, must-revalidate, private";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}
