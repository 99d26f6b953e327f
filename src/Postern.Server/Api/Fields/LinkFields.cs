using System.Text.Json;
using System.Text.Json.Nodes;

namespace Postern.Server.Api;

/// <summary>DRF's HyperlinkedIdentityField: the object's own absolute URL, read-only (<c>"url"</c>).</summary>
public sealed class UrlField<TRecord> : Field<TRecord>
    where TRecord : class
{
    public UrlField()
        : base("url")
    {
        // An object's URL is its id, which no client chooses.
        ReadOnly = true;
    }

    /// <summary>The resource whose objects' URLs this field writes: set when the resource is declared with it.</summary>
    internal Resource<TRecord>? Owner { get; set; }

    public override bool HasDefault => false;
    public override string MetadataType => "field";
    public override FormInputKind FormInput => FormInputKind.Text;

    internal override ValueTask ValidateAsync(ApiInput input, ValidationContext context, FieldErrors errors, ValidatedData data) =>
        ValueTask.CompletedTask;

    internal override void WriteValue(Utf8JsonWriter writer, TRecord record, ApiLinks links)
    {
        var owner = Owner ?? throw new InvalidOperationException("A UrlField belongs to the resource declared with it.");
        links.WriteInstance(writer, owner, owner.IdOf(record));
    }

    internal override JsonObject ValueSchema() => new() { ["type"] = "string", ["format"] = "uri", ["readOnly"] = true };
}

/// <summary>Where a hyperlink in input points, as DRF's HyperlinkedRelatedField resolves it.</summary>
internal static class Hyperlinks
{
    /// <summary>
    /// The id a hyperlink names in <paramref name="target"/>, or a message. Any host is accepted (DRF compares paths only);
    /// the path is resolved against every route, so a link to another resource is an "incorrect match". An id that cannot be a
    /// database id (<c>abc</c>, beyond 64 bits) is an object that does not exist; Python's int() rules apply (<c>" 01"</c> is 1).
    /// </summary>
    public static bool TryResolve(string url, ApiResource target, RouteTable routes, out long id, out string? problem)
    {
        id = 0;
        problem = null;
        // Case-sensitive, as Python's startswith(('http:', 'https:')): "HTTP://..." is resolved as a path, and fails.
        var path = url.StartsWith("http:", StringComparison.Ordinal) || url.StartsWith("https:", StringComparison.Ordinal)
            ? (Uri.TryCreate(url, UriKind.Absolute, out var absolute) ? absolute.AbsolutePath : "")
            : url;
        path = DecodeUnreserved(path);
        var match = routes.Resolve(path);
        if (match is null)
        {
            problem = routes.IsOtherPage(path) ? FieldMessages.IncorrectUrlMatch : FieldMessages.NoUrlMatch;
            return false;
        }
        if (match.Route.Kind != RouteKind.Instance || match.Route.Resource != target)
        {
            problem = FieldMessages.IncorrectUrlMatch;
            return false;
        }
        if (!PythonValues.TryParseInt(match.Id!, out id))
        {
            problem = FieldMessages.ObjectDoesNotExist;
            return false;
        }
        return true;
    }

    /// <summary>Django's uri_to_iri on the path: %-escapes of unreserved characters become the characters.</summary>
    private static string DecodeUnreserved(string path)
    {
        if (!path.Contains('%', StringComparison.Ordinal))
            return path;
        var text = new System.Text.StringBuilder(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '%' && i + 2 < path.Length && Uri.IsHexDigit(path[i + 1]) && Uri.IsHexDigit(path[i + 2]))
            {
                var c = (char)Convert.ToInt32(path.Substring(i + 1, 2), 16);
                if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~')
                {
                    text.Append(c);
                    i += 2;
                    continue;
                }
            }
            text.Append(path[i]);
        }
        return text.ToString();
    }
}

/// <summary>
/// DRF's ManyRelatedField of HyperlinkedRelatedFields: a list of URLs of another resource's objects, each of which must
/// exist. On an HTML form the list is the field's repeated values, and no value at all means an empty list.
/// </summary>
public sealed class HyperlinkListField<TRecord>(string name, Func<TRecord, IReadOnlyList<long>> get, Func<ApiResource> target)
    : Field<TRecord, IReadOnlyList<long>>(name, get), IRelatedField
{
    public ApiResource Target => target();

    /// <summary>DRF's allow_empty.</summary>
    public bool AllowEmpty { get; init; } = true;

    /// <summary>
    /// DRF's max_length. DRF has none by default; Postern bounds every list so that one request cannot ask the database
    /// for more objects than a statement may name (docs/differences-from-django.md).
    /// </summary>
    public int MaxItems { get; init; } = DefaultMaxItems;

    public const int DefaultMaxItems = 1000;

    public override string MetadataType => "field";
    public override FormInputKind FormInput => FormInputKind.MultipleSelect;

    /// <summary>DRF's ManyRelatedField.get_value: a form's values as they are (an empty one is a link that matches nothing).</summary>
    protected override FieldValue? RawValue(ApiInput input, ValidationContext context) => input.TryGet(Name, out var value) ? value : null;

    protected override bool TryEmptyFormValue(out IReadOnlyList<long> value)
    {
        value = [];
        return true;
    }

    protected override bool TryConvert(FieldValue raw, ValidationContext context, List<string> problems, out IReadOnlyList<long> value)
    {
        value = [];
        List<(string? Url, string TypeName)> items;
        if (raw.Form is { } form)
        {
            items = [.. form.Select(f => ((string?)f, "str"))];
        }
        else
        {
            var json = raw.Json!.Value;
            switch (json.ValueKind)
            {
                case JsonValueKind.Array:
                    items = [.. json.EnumerateArray()
                        .Select(e => (e.ValueKind == JsonValueKind.String ? e.GetString() : null, PythonValues.TypeName(e)))];
                    break;
                case JsonValueKind.Object:
                    // Python iterates a dict's keys: DRF takes {"/api/groups/1/": 1} as the list of its keys.
                    items = [.. json.EnumerateObject().Select(p => ((string?)p.Name, "str"))];
                    break;
                default:
                    problems.Add(FieldMessages.NotAList(PythonValues.TypeName(json)));
                    return false;
            }
        }
        if (!AllowEmpty && items.Count == 0)
        {
            problems.Add(FieldMessages.EmptyList);
            return false;
        }
        // DRF's order: the list's length before its items.
        if (items.Count > MaxItems)
        {
            problems.Add(FieldMessages.TooManyItems(MaxItems));
            return false;
        }
        var ids = new List<long>(items.Count);
        foreach (var (url, typeName) in items)
        {
            // DRF stops at the first item that fails: one message for the field.
            if (url is null)
            {
                problems.Add(FieldMessages.IncorrectUrlType(typeName));
                return false;
            }
            if (!Hyperlinks.TryResolve(url, Target, context.Call.Routes, out var id, out var problem))
            {
                problems.Add(problem!);
                return false;
            }
            ids.Add(id);
        }
        value = ids;
        return true;
    }

    /// <summary>Every object linked to exists (one query for the whole list).</summary>
    protected override IEnumerable<FieldValidator<IReadOnlyList<long>>> BuiltInValidators() => [new ExistingObjects(this)];

    private sealed class ExistingObjects(HyperlinkListField<TRecord> field) : FieldValidator<IReadOnlyList<long>>
    {
        public override bool NeedsValidValue => true;

        public override async ValueTask<string?> ValidateAsync(IReadOnlyList<long> value, ValidationContext context)
        {
            if (value.Count == 0)
                return null;
            var existing = await field.Target.ExistingIdsAsync(context.Call, value);
            return value.All(existing.Contains) ? null : FieldMessages.ObjectDoesNotExist;
        }
    }

    protected override void Write(Utf8JsonWriter writer, IReadOnlyList<long> value, ApiLinks links)
    {
        writer.WriteStartArray();
        var resource = target();
        // By index: a foreach over the interface would allocate its enumerator for every object written.
        for (var i = 0; i < value.Count; i++)
            links.WriteInstance(writer, resource, value[i]);
        writer.WriteEndArray();
    }

    internal override JsonObject ValueSchema() => new()
    {
        ["type"] = "array",
        ["items"] = new JsonObject
        {
            ["type"] = "string",
            ["format"] = "uri",
            ["description"] = $"The URL of a {Target.Name.ToLowerInvariant()}.",
        },
        ["maxItems"] = MaxItems,
    };
}

/// <summary>DRF's HyperlinkedRelatedField: the URL of one object of another resource, which must exist.</summary>
public sealed class HyperlinkField<TRecord>(string name, Func<TRecord, long?> get, Func<ApiResource> target)
    : Field<TRecord, long?>(name, get), IRelatedField
{
    public ApiResource Target => target();

    public override string MetadataType => "field";
    public override FormInputKind FormInput => FormInputKind.Select;

    protected override bool TryConvert(FieldValue raw, ValidationContext context, List<string> problems, out long? value)
    {
        value = null;
        var url = raw.LastFormValue ?? (raw.Json!.Value.ValueKind == JsonValueKind.String ? raw.Json.Value.GetString() : null);
        if (url is null)
        {
            problems.Add(FieldMessages.IncorrectUrlType(raw.PythonTypeName));
            return false;
        }
        if (!Hyperlinks.TryResolve(url, Target, context.Call.Routes, out var id, out var problem))
        {
            problems.Add(problem!);
            return false;
        }
        value = id;
        return true;
    }

    protected override IEnumerable<FieldValidator<long?>> BuiltInValidators() => [new ExistingObject(this)];

    private sealed class ExistingObject(HyperlinkField<TRecord> field) : FieldValidator<long?>
    {
        public override bool NeedsValidValue => true;

        public override async ValueTask<string?> ValidateAsync(long? value, ValidationContext context) =>
            value is { } id && !(await field.Target.ExistingIdsAsync(context.Call, [id])).Contains(id)
                ? FieldMessages.ObjectDoesNotExist
                : null;
    }

    protected override void Write(Utf8JsonWriter writer, long? value, ApiLinks links) =>
        links.WriteInstance(writer, target(), value!.Value);

    internal override JsonObject ValueSchema() =>
        new() { ["type"] = "string", ["format"] = "uri", ["description"] = $"The URL of a {Target.Name.ToLowerInvariant()}." };
}
