using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Postern.Server.Email;

/// <summary>
/// An e-mail Postern sends, by name, with the values its wording takes. Each has three parts: a subject, a plain-text body
/// and an HTML body, built in (Email/Templates/) and replaceable one by one from <c>Postern:Email:TemplatesPath</c>.
/// </summary>
public sealed record EmailTemplate(string Name, IReadOnlyList<string> Values)
{
    /// <summary>Django's password reset e-mail (registration/password_reset_email.html).</summary>
    public static readonly EmailTemplate PasswordReset = new("password-reset", ["username", "reset_url", "site_name", "email"]);

    /// <summary>allauth's address confirmation e-mail (account/email/email_confirmation_message.txt).</summary>
    public static readonly EmailTemplate EmailVerification =
        new("email-verification", ["username", "verify_url", "site_name", "email"]);

    public static readonly IReadOnlyList<EmailTemplate> All = [PasswordReset, EmailVerification];

    /// <summary>The file names of its parts, in a templates folder and among the built-in ones.</summary>
    public string SubjectFile => Name + ".subject.txt";
    public string TextFile => Name + ".txt";
    public string HtmlFile => Name + ".html";
}

/// <summary>An e-mail's parts as a template made them from its values.</summary>
public sealed record RenderedEmail(string Subject, string TextBody, string HtmlBody);

/// <summary>
/// The templates' texts, read once, when the first e-mail is made (the built-in ones, or an operator's from
/// <c>Postern:Email:TemplatesPath</c>, whose folder is checked at start),
/// and filled in with <c>{name}</c> placeholders. Deliberately no template language (Scriban, Fluid, Razor): the e-mails
/// only insert a handful of values, an operator rewording them needs nothing to learn, and a template cannot run code or
/// reach anything but the values it is given. A <c>{word}</c> that names no value is left as it is, so CSS braces in an
/// HTML template survive. Values are HTML-encoded in the HTML body, as Django's autoescape does, and inserted as they
/// are in the subject and the plain text.
/// </summary>
public sealed partial class EmailTemplates
{
    private readonly Dictionary<string, (string Subject, string Text, string Html)> _texts = [];

    public EmailTemplates(IOptions<EmailOptions> options, ILogger<EmailTemplates> logger)
    {
        var folder = options.Value.TemplatesPath;
        foreach (var template in EmailTemplate.All)
        {
            string[] files = [template.SubjectFile, template.TextFile, template.HtmlFile];
            var overridden = files.Where(file => !string.IsNullOrWhiteSpace(folder) && File.Exists(Path.Combine(folder, file))).ToList();
            if (overridden.Count is > 0 and < 3)
                logger.PartlyOverriddenTemplate(template.Name, string.Join(", ", overridden), folder!);
            string Read(string file) => overridden.Contains(file) ? File.ReadAllText(Path.Combine(folder!, file)) : BuiltIn(file);
            _texts[template.Name] = (Read(template.SubjectFile), Read(template.TextFile), Read(template.HtmlFile));
        }
    }

    /// <summary>
    /// <paramref name="template"/> filled in with <paramref name="values"/>, which must hold at least the template's
    /// <see cref="EmailTemplate.Values"/> (any others are there for an operator's templates to use).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A value the template takes is missing, or the template is not one of <see cref="EmailTemplate.All"/>.
    /// </exception>
    public RenderedEmail Render(EmailTemplate template, IReadOnlyDictionary<string, string> values)
    {
        if (!_texts.TryGetValue(template.Name, out var texts))
            throw new ArgumentException($"No e-mail template '{template.Name}'.", nameof(template));
        var missing = template.Values.Where(name => !values.ContainsKey(name)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"The e-mail template '{template.Name}' takes {string.Join(", ", missing)}.", nameof(values));
        // A subject is one line (a header): Django joins the lines of its subject template the same way.
        var subject = string.Concat(Fill(texts.Subject, values, encode: false).Split('\n').Select(line => line.TrimEnd('\r'))).Trim();
        return new RenderedEmail(subject, Fill(texts.Text, values, encode: false), Fill(texts.Html, values, encode: true));
    }

    private static string Fill(string text, IReadOnlyDictionary<string, string> values, bool encode) =>
        Placeholder().Replace(text, match => values.TryGetValue(match.Groups[1].Value, out var value)
            ? encode ? WebUtility.HtmlEncode(value) : value
            : match.Value);

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Placeholder();

    private static string BuiltIn(string file)
    {
        using var stream = typeof(EmailTemplates).Assembly.GetManifestResourceStream("Postern.Email." + file)
            ?? throw new InvalidOperationException($"The built-in e-mail template {file} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
