using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Postern.Server.Api;

/// <summary>
/// DRF's CharField: strings (trimmed), numbers become their Python text, anything else is refused; then blank, the
/// declared validators, the length and NUL checks, each failure reported.
/// </summary>
public class StringField<TRecord>(string name, Func<TRecord, string?>? get = null) : Field<TRecord, string?>(name, get), ITextLengthLimits
{
    public int? MaxLength { get; init; }
    public int? MinLength { get; init; }
    public bool AllowBlank { get; init; }
    public bool TrimWhitespace { get; init; } = true;

    public override bool AcceptsBlank => AllowBlank;

    public override string MetadataType => "string";
    public override FormInputKind FormInput => FormInputKind.Text;

    protected override bool TryConvert(FieldValue raw, ValidationContext context, List<string> problems, out string? value)
    {
        value = null;
        string text;
        if (raw.LastFormValue is { } form)
        {
            text = form;
        }
        else
        {
            var json = raw.Json!.Value;
            switch (json.ValueKind)
            {
                case JsonValueKind.String:
                    text = json.GetString()!;
                    break;
                case JsonValueKind.Number:
                    text = PythonValues.NumberText(json);
                    break;
                default:
                    problems.Add(InvalidMessage);
                    return false;
            }
        }
        if (TrimWhitespace)
            text = text.Trim();
        if (text.Length == 0 && !AllowBlank)
        {
            problems.Add(FieldMessages.Blank);
            return false;
        }
        value = text;
        return true;
    }

    protected override bool SkipsValidators(string? value) => value is { Length: 0 };

    /// <summary>
    /// DRF's "invalid" message, which a subclass's own replaces: an EmailField says "Enter a valid email address." to a
    /// list too.
    /// </summary>
    protected virtual string InvalidMessage => FieldMessages.NotAString;

    /// <summary>After the declared validators, as DRF's CharField appends its own: length, then no NUL.</summary>
    protected override IEnumerable<FieldValidator<string?>> BuiltInValidators()
    {
        if (MaxLength is { } max)
            yield return new CheckValidator<string?>(text => text!.Length > max ? FieldMessages.MaxLength(max) : null);
        if (MinLength is { } min)
            yield return new CheckValidator<string?>(text => text!.Length < min ? FieldMessages.MinLength(min) : null);
        yield return new CheckValidator<string?>(text =>
            text!.Contains('\0', StringComparison.Ordinal) ? FieldMessages.NullCharacters : null);
    }

    protected override void Write(Utf8JsonWriter writer, string? value, ApiLinks links) => writer.WriteStringValue(value);

    internal override void DescribeConstraints(JsonObject info)
    {
        if (MinLength is { } min)
            info["min_length"] = min;
        if (MaxLength is { } max)
            info["max_length"] = max;
    }

    internal override JsonObject ValueSchema()
    {
        var schema = new JsonObject { ["type"] = "string" };
        if (MinLength is { } min)
            schema["minLength"] = min;
        else if (!AllowBlank)
            schema["minLength"] = 1;
        if (MaxLength is { } max)
            schema["maxLength"] = max;
        return schema;
    }
}

/// <summary>
/// A password as DRF serializers take one (<c>CharField(write_only=True, trim_whitespace=False, style={"input_type":
/// "password"})</c>): never shown, not trimmed, a password box on the browsable page's forms.
/// </summary>
public sealed class PasswordField<TRecord> : StringField<TRecord>
{
    public PasswordField(string name)
        : base(name)
    {
        WriteOnly = true;
        TrimWhitespace = false;
    }

    public override FormInputKind FormInput => FormInputKind.Password;
}

/// <summary>DRF's EmailField: a CharField whose last check is Django's EmailValidator.</summary>
public sealed class EmailField<TRecord>(string name, Func<TRecord, string?>? get = null) : StringField<TRecord>(name, get)
{
    public override string MetadataType => "email";
    public override FormInputKind FormInput => FormInputKind.Email;

    protected override string InvalidMessage => FieldMessages.InvalidEmail;

    protected override IEnumerable<FieldValidator<string?>> BuiltInValidators() =>
        base.BuiltInValidators()
            .Append(new CheckValidator<string?>(text => EmailAddress.IsValid(text!) ? null : FieldMessages.InvalidEmail));

    internal override JsonObject ValueSchema()
    {
        var schema = base.ValueSchema();
        schema["format"] = "email";
        return schema;
    }
}

/// <summary>DRF's ChoiceField over strings: the value must be one of <see cref="Choices"/>' values.</summary>
public sealed class ChoiceField<TRecord>(string name, Func<TRecord, string?>? get = null) : Field<TRecord, string?>(name, get), IChoiceList
{
    /// <summary>Each value with the name a person reads.</summary>
    public required IReadOnlyList<(string Value, string DisplayName)> Choices { get; init; }

    public bool AllowBlank { get; init; }

    public override bool AcceptsBlank => AllowBlank;

    public override string MetadataType => "choice";
    public override FormInputKind FormInput => FormInputKind.Select;

    protected override bool TryConvert(FieldValue raw, ValidationContext context, List<string> problems, out string? value)
    {
        value = raw.LastFormValue ?? (raw.Json!.Value.ValueKind switch
        {
            JsonValueKind.String => raw.Json.Value.GetString(),
            JsonValueKind.Number => PythonValues.NumberText(raw.Json.Value),
            JsonValueKind.True => "True",
            JsonValueKind.False => "False",
            _ => raw.Json.Value.GetRawText(),
        });
        if (value!.Length == 0 && AllowBlank)
            return true;
        foreach (var (choice, _) in Choices)
        {
            if (choice == value)
                return true;
        }
        problems.Add(FieldMessages.InvalidChoice(value));
        return false;
    }

    protected override void Write(Utf8JsonWriter writer, string? value, ApiLinks links) => writer.WriteStringValue(value);

    internal override void DescribeConstraints(JsonObject info) =>
        info["choices"] = new JsonArray(Choices
            .Select(c => (JsonNode)new JsonObject { ["value"] = c.Value, ["display_name"] = c.DisplayName })
            .ToArray());

    internal override JsonObject ValueSchema() =>
        new() { ["type"] = "string", ["enum"] = new JsonArray(Choices.Select(c => (JsonNode?)c.Value).ToArray()) };
}

/// <summary>Django's EmailValidator.</summary>
public static partial class EmailAddress
{
    /// <summary>Django's EmailValidator, in its common form: a dot-atom local part, a domain with a TLD, localhost, or a literal.</summary>
    public static bool IsValid(string value)
    {
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1)
            return false;
        var (user, domain) = (value[..at], value[(at + 1)..]);
        return EmailUser().IsMatch(user) && (domain == "localhost" || EmailDomain().IsMatch(domain) || EmailLiteral().IsMatch(domain));
    }

    /// <summary>
    /// Django's BaseUserManager.normalize_email: the domain lower-cased, the local part as given (it may be
    /// case-sensitive). Django applies it in the user model's clean(), so its model forms (sign-up, the profile) store
    /// the normalized address while DRF's serializers, which skip clean(), store it as sent.
    /// </summary>
    public static string Normalize(string value)
    {
        var at = value.LastIndexOf('@');
        return at < 0 ? value : string.Concat(value.AsSpan(0, at + 1), value[(at + 1)..].ToLowerInvariant());
    }

    [GeneratedRegex(@"^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\z", RegexOptions.IgnoreCase)]
    private static partial Regex EmailUser();

    [GeneratedRegex(@"^((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))\z", RegexOptions.IgnoreCase)]
    private static partial Regex EmailDomain();

    [GeneratedRegex(@"^\[[0-9a-f:.]+\]\z", RegexOptions.IgnoreCase)]
    private static partial Regex EmailLiteral();
}
