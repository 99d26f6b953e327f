using System.Text.Json;

namespace Postern.Server.Api;

/// <summary>
/// One field of a resource, declared once (DRF's serializer field). Everything about the field comes from this one
/// declaration: how input is validated (with DRF's messages), how the field is written in JSON, how OPTIONS, the OpenAPI
/// document and the browsable page's forms describe it.
/// </summary>
/// <remarks>
/// The class hierarchy follows DRF's: a field knows its value type (<see cref="Field{TRecord, TValue}"/>) and, through a
/// getter, where the value comes from in a record of the resource. Validation does not depend on the record.
/// </remarks>
public abstract class Field
{
    private readonly bool? _required;

    protected Field(string name)
    {
        Name = name;
        EncodedName = JsonEncodedText.Encode(name);
    }

    /// <summary>The key in JSON bodies and forms.</summary>
    public string Name { get; }

    internal JsonEncodedText EncodedName { get; }

    /// <summary>DRF's label: by default the name with its first letter capitalised and underscores as spaces.</summary>
    public string Label
    {
        get => field ?? (Name.Length == 0 ? "" : char.ToUpperInvariant(Name[0]) + Name[1..].Replace('_', ' '));
        init;
    }

    public string? HelpText { get; init; }

    /// <summary>Shown, never accepted: input for it is ignored, as DRF ignores it.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Accepted, never shown (a password).</summary>
    public bool WriteOnly { get; init; }

    /// <summary>
    /// Shown once, in the answer to the create that made the object, and never again: not in a list, a retrieval or another
    /// write's answer (an API token's key, of which only a hash is kept). Read-only. OPTIONS describes it, and the OpenAPI
    /// document puts it in the create's answer only (<c>TokenCreated</c>).
    /// </summary>
    public bool ShownOnlyOnCreate { get; init; }

    /// <summary>
    /// Who sees the field at all (in answers, OPTIONS and forms); null: everyone who may read the resource. A field hidden
    /// from a request is also not accepted from it.
    /// </summary>
    public PermissionRule? ShownTo { get; init; }

    /// <summary>Who may write the field; null: anyone who may write the object. For everyone else it is read-only.</summary>
    public PermissionRule? WritableBy { get; init; }

    public bool IsShownTo(ApiRequest request) => ShownTo?.HasPermission(request) ?? true;

    /// <summary>Read-only for this request: declared so, or writable only by others.</summary>
    public bool IsReadOnlyFor(ApiRequest request) => ReadOnly || (WritableBy is { } rule && !rule.HasPermission(request));

    /// <summary>Whether creating (and PUT) must send it; DRF's default: unless read-only or it has a default.</summary>
    public bool Required
    {
        get => _required ?? (!ReadOnly && !HasDefault);
        init => _required = value;
    }

    /// <summary>Whether JSON <c>null</c> is accepted (and stored as no value).</summary>
    public bool AllowNull { get; init; }

    /// <summary>Whether the empty string is a value of this field (DRF's allow_blank, which only text fields have).</summary>
    public virtual bool AcceptsBlank => false;

    /// <summary>Whether the field takes a value of its own when it is left out of a create or a PUT.</summary>
    public abstract bool HasDefault { get; }

    /// <summary>What the field's unique validator says, for a value found taken only at the write (a race); null without one.</summary>
    public virtual string? UniqueMessage => null;

    /// <summary>DRF's SimpleMetadata type name: string, email, integer, boolean, datetime, choice, field.</summary>
    public abstract string MetadataType { get; }

    /// <summary>How the browsable page asks for the field.</summary>
    public abstract FormInputKind FormInput { get; }

    /// <summary>
    /// DRF's Field.run_validation: takes this field's value out of the input, checks presence and null, converts it and runs
    /// the validators. A value (or the default) lands in <paramref name="data"/>; problems land in <paramref name="errors"/>.
    /// </summary>
    internal abstract ValueTask ValidateAsync(ApiInput input, ValidationContext context, FieldErrors errors, ValidatedData data);

    /// <summary>What a client sees of the field's constraints beyond type, label and help: DRF's SimpleMetadata attributes.</summary>
    internal virtual void DescribeConstraints(System.Text.Json.Nodes.JsonObject info)
    {
    }

    /// <summary>The OpenAPI (JSON Schema) description of the value, without nullability.</summary>
    internal abstract System.Text.Json.Nodes.JsonObject ValueSchema();
}

/// <summary>A field whose value, in a record of the resource, is read by the resource's getter.</summary>
public abstract class Field<TRecord> : Field
{
    protected Field(string name)
        : base(name)
    {
    }

    /// <summary>Writes the field's value of <paramref name="record"/> (the property name is already written).</summary>
    internal abstract void WriteValue(Utf8JsonWriter writer, TRecord record, ApiLinks links);
}

/// <summary>A field with a value type: the converter from input and to JSON, the getter, the validators.</summary>
public abstract class Field<TRecord, TValue> : Field<TRecord>
{
    private readonly Func<TRecord, TValue>? _get;
    private readonly bool _hasDefault;

    /// <param name="get">Where the value is in a record; null for a write-only field (an action's input).</param>
    protected Field(string name, Func<TRecord, TValue>? get)
        : base(name)
    {
        _get = get;
    }

    /// <summary>The value a create or PUT takes when the field is left out.</summary>
    public TValue? Default
    {
        get;
        init
        {
            field = value;
            _hasDefault = true;
        }
    }

    public override bool HasDefault => _hasDefault;

    public override string? UniqueMessage => Validators.OfType<UniqueValidator<TValue>>().FirstOrDefault()?.Message;

    /// <summary>Run in order after conversion (DRF's validators). Every failure is reported, as DRF reports them all.</summary>
    public IReadOnlyList<FieldValidator<TValue>> Validators { get; init; } = [];

    /// <summary>DRF's to_internal_value: the value, or false with the reason in <paramref name="problems"/>.</summary>
    protected abstract bool TryConvert(FieldValue raw, ValidationContext context, List<string> problems, out TValue value);

    /// <summary>The checks the field type itself adds after the declared ones (DRF's CharField appends length and NUL checks).</summary>
    protected virtual IEnumerable<FieldValidator<TValue>> BuiltInValidators() => [];

    /// <summary>A converted value that the validators do not see (DRF's CharField returns a permitted blank at once).</summary>
    protected virtual bool SkipsValidators(TValue value) => false;

    /// <summary>DRF's to_representation.</summary>
    protected abstract void Write(Utf8JsonWriter writer, TValue value, ApiLinks links);

    /// <summary>
    /// The raw input for this field, or null when the client left it out (DRF's get_value). An HTML form cannot send
    /// "nothing" for a text box, so there an empty value of an optional field means null (if allowed) or left out.
    /// </summary>
    protected virtual FieldValue? RawValue(ApiInput input, ValidationContext context)
    {
        if (!input.TryGet(Name, out var value))
            return null;
        if (value.LastFormValue is not "" || AcceptsBlank)
            return value;
        if (AllowNull)
            return new FieldValue(System.Text.Json.JsonDocument.Parse("null").RootElement, null);
        return Required ? value : null;
    }

    /// <summary>What an HTML form leaves out means "empty" for some fields (an unticked box, no selected options).</summary>
    protected virtual bool TryEmptyFormValue(out TValue value)
    {
        value = default!;
        return false;
    }

    internal override void WriteValue(Utf8JsonWriter writer, TRecord record, ApiLinks links)
    {
        var value = _get is null ? default! : _get(record);
        if (value is null)
            writer.WriteNullValue();
        else
            Write(writer, value, links);
    }

    internal override async ValueTask ValidateAsync(ApiInput input, ValidationContext context, FieldErrors errors, ValidatedData data)
    {
        if (ReadOnly)
            return;
        var raw = RawValue(input, context);
        if (raw is null)
        {
            if (input.IsForm && !context.Partial && TryEmptyFormValue(out var empty))
            {
                data.Set(this, empty);
                return;
            }
            if (context.Partial)
                return;
            if (Required)
                errors.Add(Name, FieldMessages.Required);
            else if (HasDefault)
                data.Set(this, Default);
            return;
        }
        if (raw.Value.IsNull)
        {
            if (AllowNull)
                data.Set<TValue?>(this, default);
            else
                errors.Add(Name, FieldMessages.Null);
            return;
        }
        var problems = new List<string>();
        if (!TryConvert(raw.Value, context, problems, out var value))
        {
            errors.AddRange(Name, problems);
            return;
        }
        if (SkipsValidators(value))
        {
            data.Set(this, value);
            return;
        }
        // A validator that asks the database runs last, and only on a value that passed every other check: no query is sent
        // with a value no column can hold (PostgreSQL refuses NUL characters outright). It only speaks when the rest are
        // silent, so the order of the messages is DRF's.
        var validators = Validators.Concat(BuiltInValidators()).ToList();
        foreach (var validator in validators.Where(v => !v.NeedsValidValue))
        {
            if (await validator.ValidateAsync(value, context) is { } problem)
                problems.Add(problem);
        }
        foreach (var validator in validators.Where(v => v.NeedsValidValue))
        {
            if (problems.Count > 0)
                break;
            if (await validator.ValidateAsync(value, context) is { } problem)
                problems.Add(problem);
        }
        if (problems.Count > 0)
            errors.AddRange(Name, problems);
        else
            data.Set(this, value);
    }
}

/// <summary>How the browsable page renders a field's input.</summary>
public enum FormInputKind
{
    Text,
    Email,
    Number,
    Checkbox,
    DateTime,
    Select,
    MultipleSelect,
    Password,
}

/// <summary>A field limited in length (a text box's <c>maxlength</c> on the browsable page's forms).</summary>
public interface ITextLengthLimits
{
    int? MinLength { get; }
    int? MaxLength { get; }
}

/// <summary>A field limited in value (a number box's <c>min</c> and <c>max</c>).</summary>
public interface INumberLimits
{
    long? MinValue { get; }
    long? MaxValue { get; }
}

/// <summary>A field whose value is one of a fixed list (a select's options).</summary>
public interface IChoiceList
{
    IReadOnlyList<(string Value, string DisplayName)> Choices { get; }

    /// <summary>Whether the empty string is accepted too.</summary>
    bool AllowBlank { get; }
}

/// <summary>A field whose value names objects of another resource (a select of that resource's objects).</summary>
public interface IRelatedField
{
    ApiResource Target { get; }
}
