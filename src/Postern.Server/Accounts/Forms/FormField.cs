using System.Text;
using Postern.Server.Api;

namespace Postern.Server.Accounts;

/// <summary>How a form field cleans its value, as the Django form field of the same name does.</summary>
public enum FormFieldKind
{
    /// <summary>forms.CharField: surrounding whitespace stripped.</summary>
    Text,

    /// <summary>Django's UsernameField: a CharField whose value is NFKC-normalized.</summary>
    Username,

    /// <summary>forms.EmailField: stripped, then Django's EmailValidator.</summary>
    Email,

    /// <summary>A password input: CharField(strip=False); never echoed back, never logged.</summary>
    Password,
}

/// <summary>
/// One field of an account form (docs/accounts.md), declared once: it cleans the request's value with Django's form
/// messages and describes itself to the OpenAPI document.
/// </summary>
public sealed record FormField(string Name, FormFieldKind Kind = FormFieldKind.Text)
{
    /// <summary>Django's "required" message: forms say it for a missing field, <c>null</c> and the empty string alike.</summary>
    public const string RequiredMessage = FieldMessages.Required;

    public const string NullCharactersMessage = "Null characters are not allowed.";

    public bool Required { get; init; } = true;

    public int? MaxLength { get; init; }

    public string? Description { get; init; }

    public static string MaxLengthMessage(int limit, int length) =>
        $"Ensure this value has at most {limit} characters (it has {length}).";

    /// <summary>
    /// The cleaned value, or null with the field's errors added: forms.Field.clean (to_python, validate, every validator's
    /// message collected), in the order Django runs them.
    /// </summary>
    public string? Clean(FormInput input, FieldErrors errors)
    {
        var raw = input.Get(Name);
        if (raw.NotAString)
        {
            errors.Add(Name, FieldMessages.NotAString);
            return null;
        }
        var value = raw.Text ?? "";
        if (Kind != FormFieldKind.Password)
            value = value.Trim(PythonWhitespace);
        if (Kind == FormFieldKind.Username)
            value = value.Normalize(NormalizationForm.FormKC);
        if (value.Length == 0)
        {
            if (Required)
                errors.Add(Name, RequiredMessage);
            return Required ? null : "";
        }
        var before = errors.Has(Name);
        // Django's EmailValidator refuses anything over 320 characters before looking at it.
        if (Kind == FormFieldKind.Email && (value.Length > 320 || !EmailAddress.IsValid(value)))
            errors.Add(Name, FieldMessages.InvalidEmail);
        if (MaxLength is { } limit && value.Length > limit)
            errors.Add(Name, MaxLengthMessage(limit, value.Length));
        if (value.Contains('\0', StringComparison.Ordinal))
            errors.Add(Name, NullCharactersMessage);
        return errors.Has(Name) && !before ? null : value;
    }

    // Python's str.strip() strips Unicode whitespace, which .NET's Trim() also covers, plus the ASCII separators below.
    private static readonly char[] PythonWhitespace =
        [' ', '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1d', '\x1e', '\x1f', '\x85', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002',
            '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f',
            '\u3000'];
}
