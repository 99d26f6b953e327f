using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace Postern.Client.Profiles;

/// <summary>
/// A login (or two-factor) form read from a page as a browser reads it: its action, its hidden inputs, the name of
/// the field that takes the username (<c>username</c> in Django and DRF, <c>login</c> in allauth, <c>email</c> on some
/// sites), and the error text the page shows above or beside it.
/// </summary>
internal sealed class HtmlLoginForm
{
    private static readonly HtmlParser Parser = new();

    private HtmlLoginForm(Uri action, string method, IReadOnlyList<KeyValuePair<string, string>> hidden,
        string? usernameField, string? passwordField, string? codeField)
    {
        Action = action;
        Method = method;
        Hidden = hidden;
        UsernameField = usernameField;
        PasswordField = passwordField;
        CodeField = codeField;
    }

    public Uri Action { get; }
    public string Method { get; }
    public IReadOnlyList<KeyValuePair<string, string>> Hidden { get; }
    public string? UsernameField { get; }
    public string? PasswordField { get; }

    /// <summary>A one-time code input (allauth's two-factor form: <c>code</c>, <c>autocomplete="one-time-code"</c>).</summary>
    public string? CodeField { get; }

    /// <summary>The page's first form with a password input, or null.</summary>
    public static HtmlLoginForm? FindLogin(string html, Uri page) => Find(html, page, form => PasswordInput(form) is not null);

    /// <summary>The page's first form asking for a one-time code and no password, or null.</summary>
    public static HtmlLoginForm? FindCode(string html, Uri page) =>
        Find(html, page, form => PasswordInput(form) is null && CodeInput(form) is not null);

    /// <summary>The page's first form that posts (a logout confirmation), or null.</summary>
    public static HtmlLoginForm? FindPost(string html, Uri page, Func<Uri, bool> actionMatches) =>
        Find(html, page, form => string.Equals(form.Method, "post", StringComparison.OrdinalIgnoreCase)
            && actionMatches(ActionOf(form, page)));

    /// <summary>
    /// The errors the page shows: Django's <c>errorlist</c> items (allauth's and DRF's templates too), else alert boxes;
    /// empty when it shows none.
    /// </summary>
    public static IReadOnlyList<string> Errors(string html)
    {
        using var document = Parser.ParseDocument(html);
        var errors = document.QuerySelectorAll(".errorlist li, .errornote, .alert-danger, .alert-error, [role=alert]")
            .Select(e => Squeeze(e.TextContent)).Where(t => t.Length > 0).Distinct().ToList();
        return errors;
    }

    private static HtmlLoginForm? Find(string html, Uri page, Func<IHtmlFormElement, bool> wanted)
    {
        using var document = Parser.ParseDocument(html);
        var form = document.Forms.FirstOrDefault(wanted);
        if (form is null)
            return null;
        var hidden = Inputs(form).Where(i => Type(i) == "hidden" && i.Name is { Length: > 0 })
            .Select(i => KeyValuePair.Create(i.Name!, i.Value)).ToList();
        var password = PasswordInput(form);
        // The field beside the password that takes who is logging in: the first text-like input.
        var username = password is null ? null : Inputs(form).FirstOrDefault(i => i.Name is { Length: > 0 } && i != password
            && Type(i) is "text" or "email" or "tel" or "");
        return new HtmlLoginForm(ActionOf(form, page), string.IsNullOrEmpty(form.Method) ? "get" : form.Method.ToLowerInvariant(),
            hidden, username?.Name, password?.Name, CodeInput(form)?.Name);
    }

    private static Uri ActionOf(IHtmlFormElement form, Uri page) =>
        form.GetAttribute("action") is { Length: > 0 } action ? new Uri(page, action) : page;

    private static IEnumerable<IHtmlInputElement> Inputs(IHtmlFormElement form) => form.Elements.OfType<IHtmlInputElement>();

    private static string Type(IHtmlInputElement input) => (input.GetAttribute("type") ?? "").Trim().ToLowerInvariant();

    private static IHtmlInputElement? PasswordInput(IHtmlFormElement form) =>
        Inputs(form).FirstOrDefault(i => Type(i) == "password" && i.Name is { Length: > 0 });

    private static IHtmlInputElement? CodeInput(IHtmlFormElement form) =>
        Inputs(form).FirstOrDefault(i => i.Name is { Length: > 0 } name && Type(i) is "text" or "number" or "tel" or ""
            && (string.Equals(i.GetAttribute("autocomplete"), "one-time-code", StringComparison.OrdinalIgnoreCase)
                || name is "code" or "otp" or "otp_token" or "token"));

    private static string Squeeze(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The fields to post: the hidden ones as they are, then the given ones (replacing any hidden of that name).</summary>
    public List<KeyValuePair<string, string>> Fill(params (string? Name, string Value)[] given)
    {
        var names = given.Where(g => g.Name is not null).Select(g => g.Name!).ToHashSet(StringComparer.Ordinal);
        var fields = Hidden.Where(h => !names.Contains(h.Key)).ToList();
        fields.AddRange(given.Where(g => g.Name is not null).Select(g => KeyValuePair.Create(g.Name!, g.Value)));
        return fields;
    }
}
