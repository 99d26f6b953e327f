using System.Data.Common;
using Postern.Server.Storage.Caching;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>One column of a <see cref="TableMapping{TRecord}"/>: its name and how a record's value becomes a parameter.</summary>
public sealed class TableColumn<TRecord>
{
    private readonly Action<DbCommand, string, TRecord> _bind;

    internal TableColumn(string name, Action<DbCommand, string, TRecord> bind)
    {
        Name = name;
        _bind = bind;
    }

    public string Name { get; }

    /// <summary>The parameter that stands for this column in the statements: <c>@</c> and its name.</summary>
    internal string Parameter => "@" + Name;

    internal void Bind(DbCommand command, TRecord record) => _bind(command, Parameter, record);
}

/// <summary>
/// How a simple table maps to a record, for <see cref="TableStore{TRecord}"/>: the table, an auto-increment id column
/// and the other columns, added one by one (<see cref="Text"/>, <see cref="Number"/>, …). <paramref name="read"/> takes a
/// row by position: the id first, then the columns in the order they were added; <paramref name="withId"/> puts the id
/// of a new row into the record it was made from. Immutable: each column added makes a new mapping.
/// </summary>
public sealed class TableMapping<TRecord>(string table, Func<DbDataReader, TRecord> read, Func<TRecord, long, TRecord> withId)
{
    private IReadOnlyList<TableColumn<TRecord>> _columns = [];

    public string Table => table;

    /// <summary>The id column, an auto-increment integer (<c>SchemaDialect.AutoIncrementId</c>): <c>id</c> unless said so.</summary>
    public string IdColumn { get; init; } = "id";

    /// <summary>The columns but the id, in the order <see cref="Read"/> reads them after it.</summary>
    public IReadOnlyList<TableColumn<TRecord>> Columns => _columns;

    /// <summary>A record from a row of <see cref="SelectList"/>.</summary>
    public Func<DbDataReader, TRecord> Read => read;

    /// <summary>The record a new row was made from, with the id the database gave it.</summary>
    public Func<TRecord, long, TRecord> WithId => withId;

    /// <summary>The id and the columns, in <see cref="Read"/>'s order: for a store's own queries on the table.</summary>
    public string SelectList => string.Join(", ", [IdColumn, .. _columns.Select(c => c.Name)]);

    public TableMapping<TRecord> Text(string name, Func<TRecord, string?> value) =>
        WithColumn(new(name, (command, parameter, record) => command.With(parameter, value(record))));

    /// <summary>An integer column (a bigint on PostgreSQL).</summary>
    public TableMapping<TRecord> Number(string name, Func<TRecord, long> value) =>
        WithColumn(new(name, (command, parameter, record) => command.With(parameter, value(record))));

    public TableMapping<TRecord> Boolean(string name, Func<TRecord, bool> value) =>
        WithColumn(new(name, (command, parameter, record) => command.With(parameter, value(record))));

    /// <summary>Microseconds since the Unix epoch, as every timestamp is stored (read back with <c>StoredRows.FromMicros</c>).</summary>
    public TableMapping<TRecord> Timestamp(string name, Func<TRecord, DateTimeOffset> value) =>
        WithColumn(new(name, (command, parameter, record) => command.With(parameter, Micros(value(record)))));

    private TableMapping<TRecord> WithColumn(TableColumn<TRecord> column) =>
        new(table, read, withId) { IdColumn = IdColumn, _columns = [.. _columns, column] };
}

/// <summary>
/// The storage of a simple resource, declared by a <see cref="TableMapping{TRecord}"/>: counted, listed a page at a time in
/// id order, found by id (each cached), created, updated and deleted (each announced), in SQL written here once. A new
/// resource is such a declaration and a migration that creates its table (docs/architecture.md shows one); a store with
/// more to say keeps one of these for its plain operations and adds its own SQL over the same <see cref="Database"/>.
/// </summary>
public class TableStore<TRecord>
    where TRecord : class
{
    private readonly Database _database;
    private readonly TableMapping<TRecord> _mapping;
    private readonly string _count;
    private readonly string _page;
    private readonly string _find;
    private readonly string _insert;
    private readonly string _update;
    private readonly string _delete;
    private readonly CachedQuery _counted;
    private readonly CachedQuery _paged;
    private readonly CachedQuery _byId;

    public TableStore(Database database, TableMapping<TRecord> mapping)
    {
        _database = database;
        _mapping = mapping;
        var (table, id, columns) = (mapping.Table, mapping.IdColumn, mapping.Columns);
        _count = $"SELECT COUNT(*) FROM {table};";
        _page = $"SELECT {mapping.SelectList} FROM {table} ORDER BY {id} LIMIT @limit OFFSET @offset;";
        _find = $"SELECT {mapping.SelectList} FROM {table} WHERE {id} = @id;";
        _insert = $"INSERT INTO {table} ({string.Join(", ", columns.Select(c => c.Name))}) "
            + $"VALUES ({string.Join(", ", columns.Select(c => c.Parameter))}) RETURNING {id};";
        _update = $"UPDATE {table} SET {string.Join(", ", columns.Select(c => $"{c.Name} = {c.Parameter}"))} WHERE {id} = @id;";
        _delete = $"DELETE FROM {table} WHERE {id} = @id;";
        _counted = new CachedQuery($"{table}: count");
        _paged = new CachedQuery($"{table}: page");
        _byId = new CachedQuery($"{table}: by id");
    }

    /// <summary>For a subclass that adds SQL of its own (capturing its constructor's parameter as well is warning CS9124).</summary>
    protected Database Database => _database;

    public Task<long> CountAsync(CancellationToken ct = default) =>
        _database.ReadCachedAsync(new ReadKey(_counted), db => db.Command(_count).ReadInt64Async(), ct);

    /// <summary>Up to <paramref name="limit"/> records after the first <paramref name="offset"/>, in id order.</summary>
    public Task<IReadOnlyList<TRecord>> ListAsync(int offset, int limit, CancellationToken ct = default) =>
        _database.ReadCachedAsync(new ReadKey(_paged, offset, limit), async db =>
            (IReadOnlyList<TRecord>)await db.Command(_page).With("@limit", limit).With("@offset", offset).ReadAllAsync(_mapping.Read), ct);

    public Task<TRecord?> FindAsync(long id, CancellationToken ct = default) =>
        _database.ReadCachedAsync(new ReadKey(_byId, id),
            db => db.Command(_find).With("@id", id).ReadFirstOrDefaultAsync(_mapping.Read), ct);

    /// <summary>Inserts <paramref name="values"/> (not their id: the database gives one) and returns the record with its id.</summary>
    /// <exception cref="DuplicateValueException">A unique column already has this value.</exception>
    public Task<TRecord> CreateAsync(TRecord values, CancellationToken ct = default) => _database.WriteAsync(async db =>
    {
        var command = db.Command(_insert);
        foreach (var column in _mapping.Columns)
            column.Bind(command, values);
        return _mapping.WithId(values, await RefusingDuplicatesAsync(command.ReadInt64Async()));
    }, ct);

    /// <summary>Writes every column of <paramref name="values"/> to the row <paramref name="id"/>; null if there is none.</summary>
    /// <exception cref="DuplicateValueException">A unique column already has this value in another row.</exception>
    public Task<TRecord?> UpdateAsync(long id, TRecord values, CancellationToken ct = default) => _database.WriteAsync(async db =>
    {
        var command = db.Command(_update).With("@id", id);
        foreach (var column in _mapping.Columns)
            column.Bind(command, values);
        return await RefusingDuplicatesAsync(command.ExecuteAsync()) == 0 ? null : _mapping.WithId(values, id);
    }, ct);

    /// <summary>False if there was no such row.</summary>
    public Task<bool> DeleteAsync(long id, CancellationToken ct = default) =>
        _database.WriteAsync(async db => await db.Command(_delete).With("@id", id).ExecuteAsync() > 0, ct);

    private async Task<T> RefusingDuplicatesAsync<T>(Task<T> write)
    {
        try
        {
            return await write;
        }
        catch (DbException e) when (_database.IsUniqueViolation(e))
        {
            throw new DuplicateValueException(_mapping.Table, _database.ViolatedUniqueColumn(e) ?? "?", e);
        }
    }
}
