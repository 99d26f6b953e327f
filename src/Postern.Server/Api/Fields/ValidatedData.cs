namespace Postern.Server.Api;

/// <summary>
/// The values that passed validation, by field (DRF's serializer.validated_data). A field left out of a partial
/// update is absent; <see cref="Get{TRecord, TValue}"/> then gives the fallback.
/// </summary>
public sealed class ValidatedData
{
    private readonly Dictionary<Field, object?> _values = [];

    internal void Set<TValue>(Field field, TValue value) => _values[field] = value;

    public bool Has(Field field) => _values.ContainsKey(field);

    /// <summary>The validated value of <paramref name="field"/>, or <paramref name="absent"/> when the input left it out.</summary>
    public TValue? Get<TRecord, TValue>(Field<TRecord, TValue> field, TValue? absent = default) =>
        _values.TryGetValue(field, out var value) ? (TValue?)value : absent;
}

/// <summary>What validation may need beyond the input: the request (for who asks), the object being changed, partial or not.</summary>
public sealed class ValidationContext(ApiRequest request, object? instance, bool partial)
{
    public ApiRequest Call => request;

    /// <summary>The object an update changes (DRF's serializer.instance); null when creating.</summary>
    public object? Instance => instance;

    /// <summary>A PATCH: fields left out stay as they are, and nothing is required.</summary>
    public bool Partial => partial;
}

/// <summary>A check of a converted value (DRF's validators); null when it passes, else DRF's message.</summary>
public abstract class FieldValidator<TValue>
{
    /// <summary>Run only when no earlier check failed: it asks the database, which must never see an impossible value.</summary>
    public virtual bool NeedsValidValue => false;

    public abstract ValueTask<string?> ValidateAsync(TValue value, ValidationContext context);
}

/// <summary>A check written as a function of the value alone.</summary>
public sealed class CheckValidator<TValue>(Func<TValue, string?> check) : FieldValidator<TValue>
{
    public override ValueTask<string?> ValidateAsync(TValue value, ValidationContext context) => ValueTask.FromResult(check(value));
}

/// <summary>
/// DRF's UniqueValidator: no other object already has this value. <paramref name="ownerOf"/> finds the id of the object that
/// has it, if any; the object being updated may keep its own value.
/// </summary>
public sealed class UniqueValidator<TValue>(string message, Func<TValue, ValidationContext, Task<long?>> ownerOf, Func<object, long> idOf)
    : FieldValidator<TValue>
{
    public string Message => message;

    public override bool NeedsValidValue => true;

    public override async ValueTask<string?> ValidateAsync(TValue value, ValidationContext context)
    {
        var owner = await ownerOf(value, context);
        return owner is { } id && (context.Instance is null || idOf(context.Instance) != id) ? message : null;
    }
}
