using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

using Postern.Server.Api;

namespace Postern.Server.OpenApi;

/// <summary>
/// The component schemas of one resource, each derived from its field declarations as drf-spectacular names them:
/// <c>User</c> (what is shown: every readable field, read-only ones marked), <c>UserRequest</c> (what a create or PUT
/// sends: the writable fields, the required ones listed), <c>PatchedUserRequest</c> (a PATCH: nothing required),
/// <c>PaginatedUserList</c> and <c>UserValidationError</c> (the 400's <c>{field: [messages]}</c>).
/// </summary>
internal sealed class ResourceSchemas(OpenApiDocument document)
{
    public const string ErrorSchema = "Error";

    private readonly OpenApiJsonReader _reader = new();

    public OpenApiSchemaReference Object(ApiResource resource) =>
        Register(resource.Name, () => ObjectSchema(resource.DeclaredFields.Where(f => !f.ShownOnlyOnCreate),
            $"A {resource.Name.ToLowerInvariant()} as the API shows it."));

    /// <summary>
    /// What a create answers: the object, and for a resource with fields shown only then, <c>{Name}Created</c>, the object
    /// with those fields too.
    /// </summary>
    public OpenApiSchemaReference Created(ApiResource resource) => !resource.HasFieldsShownOnlyOnCreate
        ? Object(resource)
        : Register(resource.Name + "Created", () => ObjectSchema(resource.DeclaredFields,
            $"A new {resource.Name.ToLowerInvariant()}, with what only this answer shows ("
            + string.Join(", ", resource.DeclaredFields.Where(f => f.ShownOnlyOnCreate).Select(f => f.Name)) + ")."));

    /// <summary>What a create or PUT sends; null when nothing is writable.</summary>
    public OpenApiSchemaReference? Request(string name, IReadOnlyList<Field> fields, bool partial)
    {
        if (!fields.Any(f => !f.ReadOnly))
            return null;
        var id = partial ? $"Patched{name}Request" : $"{name}Request";
        var what = partial
            ? $"{name} fields to change; those left out are kept."
            : $"The writable fields of {name}: the required ones must be sent.";
        return Register(id, () => RequestSchema(fields, partial, what));
    }

    public OpenApiSchemaReference Page(ApiResource resource) => Register($"Paginated{resource.Name}List", () => new OpenApiSchema
    {
        Type = JsonSchemaType.Object,
        Description = "One page of the list: the total count, links to the pages either side (null at an end), the objects.",
        Required = new HashSet<string> { "count", "next", "previous", "results" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["count"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0", Description = "How many objects in all." },
            ["next"] = NullableLink("The next page."),
            ["previous"] = NullableLink("The previous page."),
            ["results"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = Object(resource) },
        },
    });

    /// <summary>DRF's validation error body: each invalid field's messages, and <c>non_field_errors</c> for the body as a whole.</summary>
    public OpenApiSchemaReference ValidationError(string name, IReadOnlyList<Field> fields) => Register($"{name}ValidationError", () =>
    {
        var properties = new Dictionary<string, IOpenApiSchema>();
        foreach (var field in fields.Where(f => !f.ReadOnly))
            properties[field.Name] = Messages($"Why {field.Name} was refused.");
        properties[FieldErrors.NonFieldErrors] = Messages("What is wrong with the body as a whole (not an object, say).");
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "The fields that were refused, each with DRF's messages, in the order the fields are declared.",
            Properties = properties,
            AdditionalPropertiesAllowed = false,
            MinProperties = 1,
        };
    });

    /// <summary>DRF's <c>{"detail": "..."}</c>, the body of every refusal but validation.</summary>
    public OpenApiSchemaReference Error() => Register(ErrorSchema, () => new OpenApiSchema
    {
        Type = JsonSchemaType.Object,
        Description = "Why the request was refused, in DRF's words.",
        Required = new HashSet<string> { "detail" },
        Properties = new Dictionary<string, IOpenApiSchema> { ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String } },
    });

    /// <summary>An object schema registered once under <paramref name="id"/> (shared by every operation that uses it).</summary>
    public OpenApiSchemaReference Register(string id, Func<OpenApiSchema> build)
    {
        var schemas = document.Components!.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        if (!schemas.ContainsKey(id))
            schemas[id] = build();
        return new OpenApiSchemaReference(id, document);
    }

    /// <summary>
    /// An object of <paramref name="fields"/> as shown: write-only ones left out, the rest always there except those shown
    /// only to some users (<see cref="Field.ShownTo"/>).
    /// </summary>
    public OpenApiSchema ObjectSchema(IEnumerable<Field> fields, string description)
    {
        var shown = fields.Where(f => !f.WriteOnly).ToList();
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = description,
            Required = shown.Where(f => f.ShownTo is null).Select(f => f.Name).ToHashSet(),
            Properties = shown.ToDictionary(f => f.Name, f => (IOpenApiSchema)FieldSchema(f)),
        };
    }

    private OpenApiSchema RequestSchema(IEnumerable<Field> fields, bool partial, string description)
    {
        var writable = fields.Where(f => !f.ReadOnly).ToList();
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = description,
            Properties = writable.ToDictionary(f => f.Name, f => (IOpenApiSchema)FieldSchema(f)),
        };
        if (!partial && writable.Any(f => f.Required))
            schema.Required = writable.Where(f => f.Required).Select(f => f.Name).ToHashSet();
        return schema;
    }

    /// <summary>
    /// The field's own JSON Schema (<see cref="Field.ValueSchema"/>) read into the object model, with what the declaration
    /// says besides: its label, help text, read-only or write-only, and null when it is allowed.
    /// </summary>
    public OpenApiSchema FieldSchema(Field field)
    {
        var schema = _reader.ReadFragment<OpenApiSchema>(field.ValueSchema(), OpenApiSpecVersion.OpenApi3_1, document, out var diagnostic)
            ?? throw new InvalidOperationException($"The field {field.Name} has no schema.");
        if (diagnostic.Errors.Count > 0)
            throw new InvalidOperationException($"The schema of {field.Name} is not JSON Schema: {diagnostic.Errors[0].Message}");
        schema.Title = field.Label;
        if (!string.IsNullOrEmpty(field.HelpText))
            schema.Description = field.HelpText;
        var audience = (field.ShownTo is { } shownTo ? $" Shown to {shownTo.Who} only." : "")
            + (field.WritableBy is { } writer ? $" Only {writer.Who} may change it." : "");
        if (audience.Length > 0)
            schema.Description = (schema.Description + audience).TrimStart();
        if (field.ReadOnly)
            schema.ReadOnly = true;
        if (field.WriteOnly)
            schema.WriteOnly = true;
        if (field.AllowNull)
        {
            schema.Type |= JsonSchemaType.Null;
            schema.Enum?.Add(null!);
        }
        return schema;
    }

    private static OpenApiSchema Messages(string description) => new()
    {
        Type = JsonSchemaType.Array,
        Description = description,
        Items = new OpenApiSchema { Type = JsonSchemaType.String },
        MinItems = 1,
    };

    private static OpenApiSchema NullableLink(string description) =>
        new() { Type = JsonSchemaType.String | JsonSchemaType.Null, Format = "uri", Description = description };

    /// <summary>A JSON value for an example, from text the code already has.</summary>
    public static JsonNode Example(string json) => JsonNode.Parse(json)!;
}
