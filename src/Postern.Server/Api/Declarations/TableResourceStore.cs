using Postern.Server.Storage;

namespace Postern.Server.Api;

/// <summary>
/// The store adapter of a resource kept in one table (a <see cref="TableStore{TRecord}"/>): objects named by their numeric
/// id, created and updated from the validated fields by <paramref name="apply"/>. It gets the current object for an update
/// (null for a create), so that a PATCH keeps what it does not send. A unique column found taken at the write is reported by
/// the resource's views as that field's error.
/// </summary>
/// <param name="table">The table store, found in the request's services.</param>
/// <param name="idOf">A record's id.</param>
/// <param name="apply">The record to write: the validated fields over the current record (or the defaults, when creating).</param>
public sealed class TableResourceStore<TRecord>(
    Func<ApiRequest, TableStore<TRecord>> table,
    Func<TRecord, long> idOf,
    Func<ApiRequest, ValidatedData, TRecord?, TRecord> apply)
    : ResourceStore<TRecord>
    where TRecord : class
{
    public override Task<long> CountAsync(ApiRequest request) => table(request).CountAsync(request.Aborted);

    public override Task<IReadOnlyList<TRecord>> ListAsync(ApiRequest request, int offset, int limit) =>
        table(request).ListAsync(offset, limit, request.Aborted);

    public override Task<TRecord?> FindAsync(ApiRequest request, string id) =>
        table(request).FindAsync(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture), request.Aborted);

    public override Task<TRecord> CreateAsync(ApiRequest request, ValidatedData data) =>
        table(request).CreateAsync(apply(request, data, null), request.Aborted);

    public override Task<TRecord?> UpdateAsync(ApiRequest request, TRecord current, ValidatedData data) =>
        table(request).UpdateAsync(idOf(current), apply(request, data, current), request.Aborted);

    public override Task DeleteAsync(ApiRequest request, TRecord current) => table(request).DeleteAsync(idOf(current), request.Aborted);
}
