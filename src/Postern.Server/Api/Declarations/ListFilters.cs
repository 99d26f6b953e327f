using System.Globalization;
using Microsoft.OpenApi;

namespace Postern.Server.Api;

/// <summary>
/// A query parameter that narrows a resource's list (django-filter's Filter): declared once on the resource, it is checked
/// before the list is read (400 with django-filter's messages, keyed by the parameter, as DRF answers a bad filter), read by the
/// store, and described in the OpenAPI document. An empty value filters nothing, as django-filter's.
/// </summary>
public abstract class ListFilter(string name)
{
    public string Name => name;

    public string Description { get; init; } = "";

    /// <summary>The parameter's text in the request (the last if repeated, as Django's QueryDict.get); null if absent or empty.</summary>
    protected string? Text(ApiRequest request) =>
        request.HttpRequest.Query[name].LastOrDefault() is { Length: > 0 } text ? text : null;

    /// <summary>What is wrong with the request's value, or null.</summary>
    internal string? Problem(ApiRequest request) => Text(request) is { } text ? ProblemWith(text) : null;

    protected abstract string? ProblemWith(string text);

    internal abstract OpenApiSchema Schema();
}

/// <summary>django-filter's ModelChoiceFilter by id: the objects related to one other object.</summary>
public sealed class IdFilter(string name) : ListFilter(name)
{
    public const string InvalidChoice = "Select a valid choice. That choice is not one of the available choices.";

    public long? Read(ApiRequest request) =>
        Text(request) is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    protected override string? ProblemWith(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? null : InvalidChoice;

    internal override OpenApiSchema Schema() => new() { Type = JsonSchemaType.Integer, Minimum = "1" };
}

/// <summary>django-filter's ChoiceFilter: one of a fixed set of values.</summary>
public sealed class ChoiceFilter(string name, IReadOnlyList<string> choices) : ListFilter(name)
{
    public string? Read(ApiRequest request) => Text(request) is { } text && choices.Contains(text) ? text : null;

    protected override string? ProblemWith(string text) =>
        choices.Contains(text) ? null : $"Select a valid choice. {text} is not one of the available choices.";

    internal override OpenApiSchema Schema() => new() { Type = JsonSchemaType.String, Enum = [.. choices.Select(c => (System.Text.Json.Nodes.JsonNode)c)] };
}

/// <summary>django-filter's IsoDateTimeFilter: an ISO 8601 time; one without an offset is UTC (Postern's time zone).</summary>
public sealed class DateTimeFilter(string name) : ListFilter(name)
{
    public const string InvalidDateTime = "Enter a valid date/time.";

    public DateTimeOffset? Read(ApiRequest request) => Text(request) is { } text && TryParse(text, out var at) ? at : null;

    protected override string? ProblemWith(string text) => TryParse(text, out _) ? null : InvalidDateTime;

    private static bool TryParse(string text, out DateTimeOffset at) =>
        DateTimeOffset.TryParse(text.Replace(' ', 'T'), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at)
        && text.Length >= 10 && char.IsAsciiDigit(text[0]);

    internal override OpenApiSchema Schema() => new() { Type = JsonSchemaType.String, Format = "date-time" };
}
