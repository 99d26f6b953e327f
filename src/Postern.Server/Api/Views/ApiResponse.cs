using System.Text.Json;
using System.Text.Json.Nodes;

namespace Postern.Server.Api;

/// <summary>What a view answers: a status, a body (null for none), for creations a Location, for a throttled request Retry-After.</summary>
public sealed record ApiResponse(int Status, ApiBody? Body, string? Location = null)
{
    /// <summary>The Retry-After header, in whole seconds.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiResponse Ok(ApiBody body) => new(StatusCodes.Status200OK, body);
    public static ApiResponse Ok(JsonNode body) => new(StatusCodes.Status200OK, new NodeBody(body));
    public static ApiResponse Detail(int status, string detail) => new(status, new DetailBody(detail));
    public static ApiResponse NoContent() => new(StatusCodes.Status204NoContent, null);
    public static ApiResponse Invalid(FieldErrors errors) => new(StatusCodes.Status400BadRequest, new NodeBody(errors.ToJson()));
    public static ApiResponse NotFound(string detail = NotFoundDetail) => Detail(StatusCodes.Status404NotFound, detail);
    public static ApiResponse Forbidden(string detail) => Detail(StatusCodes.Status403Forbidden, detail);

    /// <summary>DRF's Throttled: 429, its message, and Retry-After.</summary>
    public static ApiResponse Throttled(int waitSeconds) =>
        Detail(StatusCodes.Status429TooManyRequests, Throttling.LoginThrottle.Detail(waitSeconds)) with { RetryAfterSeconds = waitSeconds };

    /// <summary>A sensitive action asked of a session whose last authentication is too old (Accounts/Forms/AccountEndpoint.cs).</summary>
    public static ApiResponse ReauthenticationRequired() => new(StatusCodes.Status401Unauthorized, new NodeBody(new JsonObject
    {
        ["detail"] = Accounts.AccountEndpoint.ReauthenticationRequired,
        ["reauthentication_required"] = true,
    }));

    public const string NotFoundDetail = "Not found.";
}

/// <summary>A JSON body that writes itself: objects and pages straight from their records, without an intermediate tree.</summary>
public abstract class ApiBody
{
    public abstract void Write(Utf8JsonWriter writer);
}

/// <summary>DRF's error body: <c>{"detail": "..."}</c>.</summary>
public sealed class DetailBody(string detail) : ApiBody
{
    private static readonly JsonEncodedText Key = JsonEncodedText.Encode("detail");

    public string Detail => detail;

    public override void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString(Key, detail);
        writer.WriteEndObject();
    }
}

/// <summary>A body built as a JSON tree (errors, metadata, the API root).</summary>
public sealed class NodeBody(JsonNode node) : ApiBody
{
    public JsonNode Node => node;

    public override void Write(Utf8JsonWriter writer) => node.WriteTo(writer);
}

/// <summary>One object as its resource's fields show it.</summary>
public sealed class ObjectBody<TRecord>(IReadOnlyList<Field<TRecord>> fields, TRecord record, ApiLinks links) : ApiBody
{
    public override void Write(Utf8JsonWriter writer) => WriteObject(writer, fields, record, links);

    internal static void WriteObject(Utf8JsonWriter writer, IReadOnlyList<Field<TRecord>> fields, TRecord record, ApiLinks links)
    {
        writer.WriteStartObject();
        // By index: a foreach over the interface would allocate an enumerator per object (a page writes ten).
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            if (field.WriteOnly)
                continue;
            writer.WritePropertyName(field.EncodedName);
            field.WriteValue(writer, record, links);
        }
        writer.WriteEndObject();
    }
}

/// <summary>A body that is one page of a list (the browsable page links the other pages).</summary>
public interface IPagedBody
{
    Page Page { get; }
}

/// <summary>DRF's paginated list: <c>count</c>, <c>next</c>, <c>previous</c>, <c>results</c>, in that order.</summary>
public sealed class PageBody<TRecord>(IReadOnlyList<Field<TRecord>> fields, Page page, IReadOnlyList<TRecord> records, ApiLinks links)
    : ApiBody, IPagedBody
{
    public Page Page => page;

    private static readonly JsonEncodedText Count = JsonEncodedText.Encode("count");
    private static readonly JsonEncodedText Next = JsonEncodedText.Encode("next");
    private static readonly JsonEncodedText Previous = JsonEncodedText.Encode("previous");
    private static readonly JsonEncodedText Results = JsonEncodedText.Encode("results");

    public override void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber(Count, page.Count);
        writer.WriteString(Next, page.Next);
        writer.WriteString(Previous, page.Previous);
        writer.WriteStartArray(Results);
        for (var i = 0; i < records.Count; i++)
            ObjectBody<TRecord>.WriteObject(writer, fields, records[i], links);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

/// <summary>
/// Thrown by a store or handler that must refuse once it knows more than a permission could (a create that needs a recent
/// sign-in): the pipeline sends <see cref="Response"/> as it is.
/// </summary>
public sealed class ApiRefusalException(ApiResponse response) : Exception("The request was refused.")
{
    public ApiResponse Response { get; } = response;
}
