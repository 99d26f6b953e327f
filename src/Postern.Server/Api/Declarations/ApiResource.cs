namespace Postern.Server.Api;

/// <summary>Which of the generic views a resource has (DRF's mixins: a ModelViewSet has them all).</summary>
[Flags]
public enum Operations
{
    None = 0,

    /// <summary>GET on the collection: a page of objects.</summary>
    List = 1,

    /// <summary>POST on the collection.</summary>
    Create = 2,

    /// <summary>GET on one object.</summary>
    Retrieve = 4,

    /// <summary>PUT on one object: every writable field.</summary>
    Update = 8,

    /// <summary>PATCH on one object: the fields sent.</summary>
    PartialUpdate = 16,

    /// <summary>DELETE on one object.</summary>
    Destroy = 32,

    ReadOnly = List | Retrieve,
    All = List | Create | Retrieve | Update | PartialUpdate | Destroy,
}

/// <summary>How an object is named in its URL (DRF's lookup field).</summary>
public enum Lookup
{
    /// <summary>A database id: anything but digits is 404 "Not found." at once, as Django cannot even look it up.</summary>
    NumericId,

    /// <summary>Any text without a slash or a dot.</summary>
    Text,
}

/// <summary>
/// A resource as the framework sees it, whatever its record type: its name and path, who may use it, which generic views and
/// named actions it has, its fields. Everything else (routes, links, OPTIONS, forms, the OpenAPI document) is derived from this.
/// </summary>
public abstract class ApiResource
{
    /// <summary>The singular name (DRF's model name): "User" makes the views "User List" and "User Instance".</summary>
    public required string Name { get; init; }

    /// <summary>The collection's URL segment under <c>/api/</c> (DRF's router prefix), also its key in the API root.</summary>
    public required string Path { get; init; }

    /// <summary>What the browsable page, OPTIONS and the OpenAPI document say about it (DRF's view docstring).</summary>
    public string Description { get; init; } = "";

    /// <summary>All must allow a request (DRF's permission_classes).</summary>
    public required IReadOnlyList<PermissionRule> Permissions { get; init; }

    public required Operations Operations { get; init; }

    public Lookup Lookup { get; init; } = Lookup.NumericId;

    /// <summary>Query parameters that narrow the list (django-filter's filterset_fields), checked before it is read.</summary>
    public IReadOnlyList<ListFilter> Filters { get; init; } = [];

    /// <summary>Named actions beside the generic views (DRF's @action): <c>revoke-others</c>, <c>set_password</c>.</summary>
    public IReadOnlyList<ApiAction> Actions { get; init; } = [];

    /// <summary>The fields, in the order they are written and validated.</summary>
    public abstract IReadOnlyList<Field> DeclaredFields { get; }

    /// <summary>Whether the create's answer shows a field no other answer does (<see cref="Field.ShownOnlyOnCreate"/>).</summary>
    public bool HasFieldsShownOnlyOnCreate => DeclaredFields.Any(f => f.ShownOnlyOnCreate);

    public string ListName => Name + " List";

    public string InstanceName => Name + " Instance";

    public bool Has(Operations operation) => (Operations & operation) == operation;

    /// <summary>The methods of the collection URL, in DRF's order (HEAD and OPTIONS are added by the pipeline).</summary>
    public IReadOnlyList<string> ListMethods => field ??= [.. Methods((Operations.List, "GET"), (Operations.Create, "POST"))];

    /// <summary>The methods of an object's URL, in DRF's order.</summary>
    public IReadOnlyList<string> InstanceMethods => field ??= [.. Methods(
        (Operations.Retrieve, "GET"), (Operations.Update, "PUT"), (Operations.PartialUpdate, "PATCH"), (Operations.Destroy, "DELETE"))];

    private IEnumerable<string> Methods(params (Operations Operation, string Method)[] candidates) =>
        candidates.Where(c => Has(c.Operation)).Select(c => c.Method);

    /// <summary>Which of this resource's objects, among <paramref name="ids"/>, exist (for hyperlinks to it).</summary>
    internal abstract Task<IReadOnlySet<long>> ExistingIdsAsync(ApiRequest request, IReadOnlyCollection<long> ids);

    /// <summary>DRF's HTML_SELECT_CUTOFF: a form's select offers at most this many objects.</summary>
    public const int SelectCutoff = 1000;

    /// <summary>
    /// The first <paramref name="limit"/> objects, in list order, as a form's select offers them (DRF's RelatedField.get_choices):
    /// each one's URL and the text a person reads. None for a resource without a list.
    /// </summary>
    internal abstract Task<IReadOnlyList<ObjectChoice>> ChoicesAsync(ApiRequest request, int limit);

    internal abstract Task<ApiResponse> ListAsync(ApiRequest request);
    internal abstract Task<ApiResponse> CreateAsync(ApiRequest request);
    internal abstract Task<ApiResponse> RetrieveAsync(ApiRequest request, string id);
    internal abstract Task<ApiResponse> UpdateAsync(ApiRequest request, string id, bool partial);
    internal abstract Task<ApiResponse> DestroyAsync(ApiRequest request, string id);
    internal abstract Task<ApiResponse> RunActionAsync(ApiRequest request, ApiAction action, string? id);

    /// <summary>
    /// Whether the object named <paramref name="id"/> exists and <paramref name="request"/> may act on it (DRF's
    /// get_object).
    /// </summary>
    internal abstract Task<bool> MayActOnAsync(ApiRequest request, string id, IReadOnlyList<PermissionRule> permissions);
}

/// <summary>
/// A named action beside the generic views (DRF's <c>@action</c>): its own URL segment, methods, input fields and,
/// when it names them, permissions; on the collection (<c>/api/sessions/revoke-others/</c>) or on one object
/// (<c>/api/users/3/set_password/</c>).
/// </summary>
public sealed class ApiAction
{
    /// <summary>The view name shown on the browsable page, e.g. "Revoke Other Sessions".</summary>
    public required string Name { get; init; }

    /// <summary>The URL segment, e.g. <c>revoke-others</c>.</summary>
    public required string Path { get; init; }

    /// <summary>On one object (its URL below the object's) rather than on the collection.</summary>
    public bool OnInstance { get; init; }

    public IReadOnlyList<string> Methods { get; init; } = ["POST"];

    public string Description { get; init; } = "";

    /// <summary>What the action reads from the body; none for an action that takes no input.</summary>
    public IReadOnlyList<Field> Fields { get; init; } = [];

    /// <summary>Null: the resource's own permissions.</summary>
    public IReadOnlyList<PermissionRule>? Permissions { get; init; }

    /// <summary>
    /// What a successful answer holds, for the OpenAPI document only: the handler writes the answer itself. None: the
    /// document says "an object".
    /// </summary>
    public IReadOnlyList<Field> ResultFields { get; init; } = [];

    /// <summary>Runs the action once the input is valid; gets the object for an action on one.</summary>
    public required Func<ActionRequest, Task<ApiResponse>> Handler { get; init; }
}

/// <summary>One object as a select offers it: its URL (the value sent) and what a person reads (Django's <c>__str__</c>).</summary>
public sealed record ObjectChoice(string Url, string Display);

/// <summary>One run of an action: the request, the validated input, and the object it acts on (null on the collection).</summary>
public sealed record ActionRequest(ApiRequest Request, ValidatedData Input, object? Instance);
