namespace Postern.Server.Api;

/// <summary>
/// A resource's storage as its views need it (a DRF queryset's list, count, get, save and delete). Each resource
/// implements what its operations use; the request is passed so that an adapter can scope what it shows to the
/// user who asks (a user's own sessions). Store-level failures that are really the client's (a name taken between
/// validation and the write) are thrown as <see cref="ApiValidationException"/>.
/// </summary>
public abstract class ResourceStore<TRecord>
{
    public virtual Task<long> CountAsync(ApiRequest request) => throw Unsupported();

    /// <summary>A page of objects in a stable order (by id for database tables).</summary>
    public virtual Task<IReadOnlyList<TRecord>> ListAsync(ApiRequest request, int offset, int limit) => throw Unsupported();

    /// <summary>
    /// The object named <paramref name="id"/> in its URL (digits for a <see cref="Lookup.NumericId"/> resource), or
    /// null.
    /// </summary>
    public virtual Task<TRecord?> FindAsync(ApiRequest request, string id) => throw Unsupported();

    public virtual Task<TRecord> CreateAsync(ApiRequest request, ValidatedData data) => throw Unsupported();

    /// <summary>Applies the validated fields (only those sent, for a PATCH); null when the object went away meanwhile.</summary>
    public virtual Task<TRecord?> UpdateAsync(ApiRequest request, TRecord current, ValidatedData data) => throw Unsupported();

    public virtual Task DeleteAsync(ApiRequest request, TRecord current) => throw Unsupported();

    /// <summary>Which of <paramref name="ids"/> exist, for hyperlinks to this resource; by default one lookup each.</summary>
    public virtual async Task<IReadOnlySet<long>> ExistingIdsAsync(ApiRequest request, IReadOnlyCollection<long> ids)
    {
        var existing = new HashSet<long>();
        foreach (var id in ids.Distinct())
        {
            if (await FindAsync(request, id.ToString(System.Globalization.CultureInfo.InvariantCulture)) is not null)
                existing.Add(id);
        }
        return existing;
    }

    private NotSupportedException Unsupported() =>
        new($"{GetType().Name} does not implement this operation; the resource must not declare it.");
}

/// <summary>
/// A resource of records of <typeparamref name="TRecord"/>: the declaration (fields, store adapter, id) and the generic
/// views written once for every resource (DRF's ListModelMixin, CreateModelMixin, ... and get_object).
/// </summary>
public sealed class Resource<TRecord> : ApiResource
    where TRecord : class
{
    public required IReadOnlyList<Field<TRecord>> Fields
    {
        get;
        init
        {
            field = value;
            if (value.FirstOrDefault(f => f.ShownOnlyOnCreate && !f.ReadOnly) is { } writable)
                throw new InvalidOperationException($"{writable.Name} is shown only on create, so it must be read-only.");
            foreach (var url in value.OfType<UrlField<TRecord>>())
                url.Owner = url.Owner is null || url.Owner == this
                    ? this
                    : throw new InvalidOperationException("A UrlField belongs to one resource.");
        }
    }

    public required ResourceStore<TRecord> Store { get; init; }

    /// <summary>The value that names an object in its URL.</summary>
    public required Func<TRecord, string> IdOf { get; init; }

    /// <summary>What a person reads for an object in a form's select (Django's <c>__str__</c>); null for Django's default.</summary>
    public Func<TRecord, string>? DisplayOf { get; init; }

    public override IReadOnlyList<Field> DeclaredFields => Fields;

    private string NoMatch => $"No {Name} matches the given query.";

    internal override Task<IReadOnlySet<long>> ExistingIdsAsync(ApiRequest request, IReadOnlyCollection<long> ids) =>
        Store.ExistingIdsAsync(request, ids);

    internal override async Task<IReadOnlyList<ObjectChoice>> ChoicesAsync(ApiRequest request, int limit)
    {
        if (!Has(Operations.List))
            return [];
        var records = await Store.ListAsync(request, 0, limit);
        return [.. records.Select(r => new ObjectChoice(request.Links.Instance(this, IdOf(r)), Display(r)))];
    }

    /// <summary>The object as a person reads it; without <see cref="DisplayOf"/>, as Django's Model.__str__: "Group object (3)".</summary>
    public string Display(TRecord record) => DisplayOf?.Invoke(record) ?? $"{Name} object ({IdOf(record)})";

    internal override async Task<ApiResponse> ListAsync(ApiRequest request)
    {
        var filterErrors = new FieldErrors();
        foreach (var filter in Filters)
        {
            if (filter.Problem(request) is { } problem)
                filterErrors.Add(filter.Name, problem);
        }
        if (filterErrors.Any)
            return ApiResponse.Invalid(filterErrors);
        if (!Pagination.TryPaginate(request.HttpRequest, await Store.CountAsync(request), request.Options, out var page))
            return ApiResponse.NotFound(Pagination.InvalidPage);
        var records = await Store.ListAsync(request, page.Offset, page.Size);
        return ApiResponse.Ok(new PageBody<TRecord>(FieldsShownTo(request), page, records, request.Links));
    }

    internal override async Task<ApiResponse> CreateAsync(ApiRequest request)
    {
        var data = await Serializer.ValidateAsync(request, Fields, instance: null, partial: false);
        var created = await UniqueAsync(() => Store.CreateAsync(request, data));
        var shown = FieldsShownTo(request);
        if (HasFieldsShownOnlyOnCreate)
            shown = [.. Fields.Where(f => f.ShownOnlyOnCreate || shown.Contains(f))];
        return new ApiResponse(StatusCodes.Status201Created, new ObjectBody<TRecord>(shown, created, request.Links),
            request.Links.Instance(this, IdOf(created)));
    }

    internal override async Task<ApiResponse> RetrieveAsync(ApiRequest request, string id)
    {
        var (found, refusal) = await GetObjectAsync(request, id);
        return refusal ?? ApiResponse.Ok(Represent(request, found!));
    }

    internal override async Task<ApiResponse> UpdateAsync(ApiRequest request, string id, bool partial)
    {
        // As DRF: the object first (404 before the body is even read), then the input.
        var (found, refusal) = await GetObjectAsync(request, id);
        if (refusal is not null)
            return refusal;
        var data = await Serializer.ValidateAsync(request, Fields, found, partial);
        var updated = await UniqueAsync(() => Store.UpdateAsync(request, found!, data));
        return updated is null ? ApiResponse.NotFound(NoMatch) : ApiResponse.Ok(Represent(request, updated));
    }

    internal override async Task<ApiResponse> DestroyAsync(ApiRequest request, string id)
    {
        var (found, refusal) = await GetObjectAsync(request, id);
        if (refusal is not null)
            return refusal;
        await Store.DeleteAsync(request, found!);
        return ApiResponse.NoContent();
    }

    internal override async Task<ApiResponse> RunActionAsync(ApiRequest request, ApiAction action, string? id)
    {
        TRecord? instance = null;
        if (action.OnInstance)
        {
            var (found, refusal) = await GetObjectAsync(request, id!, action.Permissions);
            if (refusal is not null)
                return refusal;
            instance = found;
        }
        var input = action.Fields.Count == 0
            ? new ValidatedData()
            : await Serializer.ValidateAsync(request, action.Fields, instance, partial: false);
        return await action.Handler(new ActionRequest(request, input, instance));
    }

    /// <summary>
    /// The object a request names, as DRF's get_object: 404 for an id that cannot be one or names none, 403 without
    /// object permission.
    /// </summary>
    internal async Task<(TRecord? Found, ApiResponse? Refusal)> GetObjectAsync(
        ApiRequest request, string id, IReadOnlyList<PermissionRule>? permissions = null)
    {
        if (Lookup == Lookup.NumericId
            && !long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            return (null, ApiResponse.NotFound());
        var found = await Store.FindAsync(request, id);
        if (found is null)
            return (null, ApiResponse.NotFound(NoMatch));
        foreach (var permission in permissions ?? Permissions)
        {
            if (!permission.HasObjectPermission(request, found))
                return (null, ApiPipeline.Denied(request, permission));
        }
        return (found, null);
    }

    /// <summary>
    /// A unique value taken between validation and the write (another request won the race): the answer validation would have
    /// given a moment later, on the field of that column.
    /// </summary>
    private async Task<T> UniqueAsync<T>(Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (Storage.DuplicateValueException e)
        {
            var field = Fields.FirstOrDefault(f => f.Name == e.Column);
            throw new ApiValidationException(field is null
                ? FieldErrors.Of(FieldErrors.NonFieldErrors, e.Message)
                : FieldErrors.Of(field.Name, field.UniqueMessage
                    ?? $"{Name.ToLowerInvariant()} with this {field.Label.ToLowerInvariant()} already exists."));
        }
    }

    internal override async Task<bool> MayActOnAsync(ApiRequest request, string id, IReadOnlyList<PermissionRule> permissions) =>
        (await GetObjectAsync(request, id, permissions)).Refusal is null;

    public ObjectBody<TRecord> Represent(ApiRequest request, TRecord record) => new(FieldsShownTo(request), record, request.Links);

    /// <summary>
    /// The fields this request sees: all of them unless some are shown only to some (<see cref="Field.ShownTo"/>). The
    /// lists are kept by which rules the request passes, so a read allocates none.
    /// </summary>
    public IReadOnlyList<Field<TRecord>> FieldsShownTo(ApiRequest request)
    {
        var rules = ShownToRules;
        if (rules.Length == 0)
            return AnswerFields;
        var passed = 0;
        for (var i = 0; i < rules.Length; i++)
        {
            if (rules[i].HasPermission(request))
                passed |= 1 << i;
        }
        return _shownFields.GetOrAdd(passed,
            mask => [.. AnswerFields.Where(f => f.ShownTo is null || (mask & (1 << Array.IndexOf(rules, f.ShownTo))) != 0)]);
    }

    /// <summary>The fields answers show, but for the create's: all but those shown only once, on create.</summary>
    private IReadOnlyList<Field<TRecord>> AnswerFields => field ??= HasFieldsShownOnlyOnCreate ? [.. Fields.Where(f => !f.ShownOnlyOnCreate)] : Fields;

    private PermissionRule[] ShownToRules => field ??= [.. Fields.Select(f => f.ShownTo).OfType<PermissionRule>().Distinct()];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, IReadOnlyList<Field<TRecord>>> _shownFields = new();
}

/// <summary>DRF's Serializer.run_validation over a list of fields: the body must be an object, then every field in order.</summary>
public static class Serializer
{
    /// <exception cref="ApiValidationException">Any field (or the body as a whole) is invalid: the 400 with every message.</exception>
    public static async Task<ValidatedData> ValidateAsync(ApiRequest request, IEnumerable<Field> fields, object? instance, bool partial)
    {
        var input = await request.ReadInputAsync();
        var errors = new FieldErrors();
        if (input.NotAnObjectTypeName is { } type)
        {
            errors.Add(FieldErrors.NonFieldErrors,
                type == "NoneType" ? "No data provided" : $"Invalid data. Expected a dictionary, but got {type}.");
            throw new ApiValidationException(errors);
        }
        var context = new ValidationContext(request, instance, partial);
        var data = new ValidatedData();
        foreach (var field in fields)
        {
            // A field this request may not see or write is not input, as DRF ignores read-only fields.
            if (field.ReadOnly || (field.IsShownTo(request) && !field.IsReadOnlyFor(request)))
                await field.ValidateAsync(input, context, errors, data);
        }
        return errors.Any ? throw new ApiValidationException(errors) : data;
    }
}
