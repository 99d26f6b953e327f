using Postern.Server.Accounts;
using Postern.Server.Api;
using Postern.Server.Csrf;
using Postern.Server.Http;

namespace Postern.Server.Browsable;

/// <summary>
/// The pages an account e-mail links to when the frontend has none of its own (<c>Postern:Frontend:*Url</c> unset): a form
/// for the new password (Django's PasswordResetConfirmView) and a button that confirms an address (allauth's confirmation
/// page: a GET changes nothing, since mail scanners open links). Both post to themselves with the CSRF form field and go
/// through the same code as the JSON endpoints.
/// </summary>
public static class AccountPages
{
    private const string InvalidResetLink =
        "The password reset link was invalid, possibly because it has already been used. Please request a new password reset.";
    private const string PasswordSet = "Your password has been set. You may go ahead and log in now.";
    private const string InvalidVerifyLink = "This e-mail confirmation link expired or is invalid.";

    public static IEndpointRouteBuilder MapAccountPages(this IEndpointRouteBuilder app)
    {
        app.Map(AccountPagePaths.PasswordReset + "{uid}/{token}", PasswordResetAsync).RequireCsrf();
        app.Map(AccountPagePaths.EmailVerify + "{key}", EmailVerifyAsync).RequireCsrf();
        return app;
    }

    private static readonly FormField[] NewPasswords = [new("new_password1", FormFieldKind.Password), new("new_password2", FormFieldKind.Password)];

    private static async Task PasswordResetAsync(HttpContext context)
    {
        var uid = (string)context.Request.RouteValues["uid"]!;
        var token = (string)context.Request.RouteValues["token"]!;
        if (context.Request.Method == "GET")
        {
            var found = await AccountEndpoints.FindResetUserAsync(context, uid, token);
            await WritePageAsync(context, "Set a new password", found is { User: not null } ? PasswordForm(context, null) : Message(InvalidResetLink));
            return;
        }
        if (context.Request.Method != "POST")
        {
            await JsonResponses.WriteMethodNotAllowedAsync(context, "GET, POST");
            return;
        }
        var input = await FormInput.ReadAsync(context.Request, context.RequestAborted);
        var errors = new FieldErrors();
        var values = new Dictionary<string, string?>(StringComparer.Ordinal) { ["uid"] = uid, ["token"] = token };
        foreach (var field in NewPasswords)
            values[field.Name] = field.Clean(input, errors);
        var call = new AccountCall(context, null, null, values, errors);
        if (!errors.Any && await AccountEndpoints.TryConfirmPasswordResetAsync(call))
        {
            await WritePageAsync(context, "Password set", Message(PasswordSet));
            return;
        }
        await WritePageAsync(context, "Set a new password",
            errors.Has("uid") || errors.Has("token") ? Message(InvalidResetLink) : PasswordForm(context, errors));
    }

    private static async Task EmailVerifyAsync(HttpContext context)
    {
        var key = (string)context.Request.RouteValues["key"]!;
        if (context.Request.Method == "GET")
        {
            var form = new Html().Raw("<p>Confirm this e-mail address for your account.</p><form method=\"post\" class=\"well\">")
                .Raw("<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"").Text(context.GetCsrfCookie().GetToken()).Raw("\">")
                .Raw("<button type=\"submit\" class=\"primary\" id=\"confirm\">Confirm</button></form>");
            await WritePageAsync(context, "Confirm e-mail address", form);
            return;
        }
        if (context.Request.Method != "POST")
        {
            await JsonResponses.WriteMethodNotAllowedAsync(context, "GET, POST");
            return;
        }
        var verified = await AccountEndpoints.VerifyAsync(context, key);
        await WritePageAsync(context, "Confirm e-mail address", Message(verified ? AccountEndpoints.EmailVerified : InvalidVerifyLink));
    }

    private static Html PasswordForm(HttpContext context, FieldErrors? errors)
    {
        var html = new Html().Raw("<form method=\"post\" class=\"well\" id=\"password-form\">")
            .Raw("<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"").Text(context.GetCsrfCookie().GetToken()).Raw("\">");
        foreach (var (name, label) in new[] { ("new_password1", "New password"), ("new_password2", "New password confirmation") })
        {
            html.Raw("<div class=\"form-group\"><label for=\"id_").Raw(name).Raw("\">").Text(label).Raw("</label><div class=\"control\">")
                .Raw("<input type=\"password\" name=\"").Raw(name).Raw("\" id=\"id_").Raw(name)
                .Raw("\" autocomplete=\"new-password\" required>");
            foreach (var (field, messages) in errors?.All ?? [])
            {
                if (field == name)
                {
                    foreach (var message in messages)
                        html.Raw("<span class=\"help-block error\">").Text(message).Raw("</span>");
                }
            }
            html.Raw("</div></div>");
        }
        return html.Raw("<button type=\"submit\" class=\"primary\" id=\"submit\">Change my password</button></form>");
    }

    private static Html Message(string text) => new Html().Raw("<p id=\"message\">").Text(text).Raw("</p>");

    private static async Task WritePageAsync(HttpContext context, string title, Html content)
    {
        var html = HtmlPages.Begin(title).Raw("<body><header class=\"navbar\"><div class=\"container\">")
            .Raw("<span class=\"brand\">Postern</span></div></header><main class=\"login\"><h1>").Text(title).Raw("</h1>")
            .Raw(content.ToString()).Raw("</main></body></html>");
        context.Response.Headers.CacheControl = "max-age=0, no-cache, no-store, must-revalidate, private";
        // The token is in this page's URL: no other site learns it from a Referer.
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        await HtmlPages.SendAsync(context, html);
    }
}
