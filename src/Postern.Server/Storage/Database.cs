using System.Data.Common;
using Microsoft.Extensions.Logging.Abstractions;
using Postern.Server.Storage.Caching;
using Postern.Server.Storage.Schema;

namespace Postern.Server.Storage;

/// <summary>
/// The one way the stores reach SQLite or PostgreSQL. Each operation runs on a connection of its own, and an outage
/// becomes <see cref="StoreUnavailableException"/> (a 503). Reads are plain or cached: a cached read is kept in this
/// instance's <see cref="ReadCache"/> while the change token stands still, so the hot path of an authenticated request
/// (its session and user, the page it asks for) costs no query at all. Writes are announced (the cache is emptied and
/// the change signal told, before and after) unless the caller says why no cached read can depend on them. The cache
/// lives here, once, for every store: as Django's cached_db session engine overrides only load, save and delete.
/// </summary>
/// <remarks>
/// Statements are sent without the caller's token (see <see cref="StoreCommands"/>): once sent, a statement runs to its
/// end; opening the connection, waiting for the writer's turn and committing honour the token.
/// </remarks>
public sealed class Database : IAsyncDisposable, IDisposable
{
    private readonly SqlDialect _dialect;
    private readonly ReadCache? _cache;
    private readonly ILogger _logger;
    private readonly Observability.PosternMetrics? _metrics;

    /// <param name="cache">
    /// Null: every read goes to the database and no write is announced (nothing can tell the other instances). A cache
    /// that keeps nothing (0 entries) still announces writes: other instances may cache.
    /// </param>
    /// <param name="metrics">Measures operations and counts outages (<c>postern.db.*</c>).</param>
    /// <param name="tables">Beside Django, which tables Postern's statements mean; null for Postern's own schema.</param>
    internal Database(SqlDialect dialect, ReadCache? cache, ILogger logger, Observability.PosternMetrics? metrics = null,
        TableNames? tables = null)
    {
        _metrics = metrics;
        _dialect = dialect;
        _cache = cache;
        _logger = logger;
        Tables = tables;
    }

    /// <summary>Beside Django, the tables Postern's statements mean (<see cref="TableNames"/>); null in Postern's own schema.</summary>
    public TableNames? Tables { get; }

    /// <summary>Whose tables hold the users and sessions.</summary>
    public StorageSchema Schema => Tables is null ? StorageSchema.Postern : StorageSchema.Django;

    /// <summary>A statement's text made after its command (see <see cref="TableNames"/>), with the table names it means here.</summary>
    public string Translate(string sql) => Tables?.Translate(sql) ?? sql;

    /// <summary>Whether this is PostgreSQL (else SQLite).</summary>
    internal bool IsPostgres => _dialect is Postgres.PostgresDialect;

    /// <summary>
    /// The database <c>--db</c> names (a <c>postgres://</c> URL, or else a SQLite path), without a cache: for a tool
    /// that reads or writes it beside the servers. The server itself gets its Database from its services.
    /// </summary>
    /// <exception cref="StoreUnavailableException">Not a usable PostgreSQL URL.</exception>
    public static Database Open(string database) => new(SqlDialect.Open(database), cache: null, NullLogger.Instance);

    /// <summary>Where the data is, for messages: a SQLite file's full path, or a PostgreSQL URL without its password.</summary>
    public string Description => _dialect.Description;

    /// <summary>This instance's read cache; null when reads go straight to the database.</summary>
    internal ReadCache? Cache => _cache;

    // ---- reads

    /// <summary>Runs <paramref name="read"/> on a connection of its own, uncached.</summary>
    public Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken ct) => RunAsync(read, "read", ct);

    /// <param name="operation">read or write: the <c>operation</c> tag of its metrics.</param>
    private async Task<T> RunAsync<T>(Func<DbConnection, Task<T>> work, string operation, CancellationToken ct)
    {
        var start = _metrics?.DatabaseStart() ?? 0;
        Tables?.TakeEffect();
        try
        {
            T result;
            if (operation == "write")
                result = await _dialect.WriteAsync(work, ct);
            else
            {
                await using var db = await _dialect.OpenAsync(ct);
                result = await work(db);
            }
            _metrics?.DatabaseOperation(operation, start);
            return result;
        }
        catch (Exception e) when (_dialect.AsUnavailable(e) is { } outage)
        {
            _metrics?.DatabaseError(operation);
            throw outage;
        }
    }

    /// <summary>
    /// <paramref name="read"/>'s result as kept under <paramref name="key"/> while the change token stands still, or read
    /// now and kept (when <paramref name="keepIf"/>, if given, allows it). Without a cache, a plain read.
    /// </summary>
    /// <param name="key">Names the read completely: the same key must always mean the same statement and arguments.</param>
    public Task<T> ReadCachedAsync<T>(ReadKey key, Func<DbConnection, Task<T>> read, CancellationToken ct, Func<T, bool>? keepIf = null) =>
        _cache is null
            ? ReadAsync(read, ct)
            : _cache.GetOrLoadAsync(key, (Database: this, Read: read),
                static (uncached, c) => uncached.Database.ReadAsync(uncached.Read, c), ct, keepIf).AsTask();

    /// <summary>Replaces a cached result in place, for a change that only this instance needs to see at once (last_seen_at).</summary>
    public void UpdateCached<T>(ReadKey key, Func<T, T> change) where T : class => _cache?.Update(key, change);

    // ---- writes

    /// <summary>
    /// A write other instances must hear about, announced twice. Before it: if Redis cannot be told, the write is refused
    /// (<see cref="StoreUnavailableException"/>, a 503) instead of committed unseen, for instances that still reach Redis
    /// would go on serving what it changed. After it, even when it failed (a lost connection may still have committed):
    /// another instance reading between the first announcement and the commit may have cached the old rows under the new token.
    /// </summary>
    /// <remarks>
    /// <paramref name="write"/> runs statements on the connection it is given and nothing else: on SQLite it may run twice, the
    /// first time in a group commit's transaction that was then undone (<see cref="Sqlite.SqliteGroupCommit"/>). It returns
    /// once its changes are committed.
    /// </remarks>
    public async Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken ct)
    {
        if (_cache is null)
            return await WriteWithoutAnnouncingAsync(write, ct);
        await _cache.Signal.AnnounceAsync(ct);
        try
        {
            return await WriteWithoutAnnouncingAsync(write, ct);
        }
        finally
        {
            await ChangedAsync(_cache);
        }
    }

    /// <inheritdoc cref="WriteAsync{T}"/>
    public Task WriteAsync(Func<DbConnection, Task> write, CancellationToken ct) => WriteAsync(async db =>
    {
        await write(db);
        return true;
    }, ct);

    /// <summary>
    /// A write that no cached read depends on, so neither this instance's cache nor the others' are told: the caller says
    /// why in a comment. On SQLite the change token moves all the same (any commit moves data_version).
    /// </summary>
    public Task<T> WriteWithoutAnnouncingAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken ct) =>
        RunAsync(write, "write", ct);

    /// <inheritdoc cref="WriteWithoutAnnouncingAsync{T}"/>
    public Task WriteWithoutAnnouncingAsync(Func<DbConnection, Task> write, CancellationToken ct) =>
        WriteWithoutAnnouncingAsync(async db =>
        {
            await write(db);
            return true;
        }, ct);

    /// <summary>
    /// Not cancellable: a client that hangs up after its logout was committed must not leave other instances serving the
    /// session. If Redis went away since the first announcement, every instance that reads the token loses its connection
    /// too and forgets what it cached; only one cut off from this instance alone may serve stale reads, up to the cache's maxAge.
    /// </summary>
    private async Task ChangedAsync(ReadCache cache)
    {
        cache.Clear();
        try
        {
            await cache.Signal.AnnounceAsync(CancellationToken.None);
        }
        catch (StoreUnavailableException e)
        {
            _logger.WriteNotAnnounced(e);
        }
    }

    // ---- what the dialect decides, for the statements of a write

    /// <summary>A transaction for a write (SQLite's takes the write lock up front).</summary>
    public Task<DbTransaction> BeginWriteAsync(DbConnection db, CancellationToken ct) => _dialect.BeginWriteAsync(db, ct);

    /// <summary>Whether <paramref name="e"/> is a unique (or primary key) constraint that a write ran into.</summary>
    public bool IsUniqueViolation(DbException e) => _dialect.IsUniqueViolation(e);

    /// <summary>The column a unique violation names, as the database reports it; null when it does not say.</summary>
    public string? ViolatedUniqueColumn(DbException e) => _dialect.ViolatedUniqueColumn(e);

    /// <summary>Whether <paramref name="e"/> is a foreign key that a write ran into: the row it refers to is gone.</summary>
    public bool IsForeignKeyViolation(DbException e) => _dialect.IsForeignKeyViolation(e);

    /// <summary>
    /// A condition true when <paramref name="column"/> is one of <paramref name="values"/>, whose parameters it adds to
    /// <paramref name="command"/>.
    /// </summary>
    public string IsOneOf(DbCommand command, string column, IReadOnlyCollection<long> values) => _dialect.IsOneOf(command, column, values);

    /// <summary>
    /// Appended to the SELECT (in a subquery of an UPDATE) that picks a row to claim: on PostgreSQL <c>FOR UPDATE SKIP
    /// LOCKED</c>, so that instances claiming at once take different rows; nothing on SQLite, which has one writer at a time.
    /// </summary>
    public string SkipLockedRows => _dialect.SkipLockedRows;

    /// <inheritdoc cref="SqlDialect.ResumeIdsAfter"/>
    public string? ResumeIdsAfter(string table) => _dialect.ResumeIdsAfter(table);

    // ---- schema

    /// <summary>Creates or migrates the schema to the last of <see cref="Migrations.All"/>; safe from several instances at once.</summary>
    /// <exception cref="Django.DjangoSchemaException">Beside Django, a database that is not a Django project's Postern understands.</exception>
    public async Task MigrateAsync(CancellationToken ct = default)
    {
        if (Tables is null)
        {
            await MigrateAsync(Migrations.All, ct);
            return;
        }
        await Django.DjangoSchema.CheckAsync(this, ct);
        await MigrateAsync(Django.DjangoSchema.Migrations, ct);
    }

    /// <summary>Applies those of <paramref name="migrations"/> the database lacks, recording each in <c>schema_version</c>.</summary>
    internal async Task MigrateAsync(IReadOnlyList<Migration> migrations, CancellationToken ct)
    {
        Tables?.TakeEffect();
        try
        {
            await _dialect.MigrateAsync(async (db, tx) =>
            {
                await db.Command("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);", tx).ExecuteAsync();
                var version = (int)await db.Command("SELECT MAX(version) FROM schema_version;", tx).ReadInt64Async();
                for (var i = version; i < migrations.Count; i++)
                {
                    await db.Command(migrations[i].Sql(_dialect.Schema), tx).ExecuteAsync();
                    await db.Command("INSERT INTO schema_version (version) VALUES (@v);", tx).With("@v", i + 1).ExecuteAsync();
                }
            }, ct);
        }
        catch (Exception e) when (_dialect.AsUnavailable(e) is { } outage)
        {
            throw outage;
        }
    }

    /// <summary>Asks the database itself, for the readiness probe.</summary>
    /// <exception cref="StoreUnavailableException">The database does not answer.</exception>
    public async Task PingAsync(CancellationToken ct = default)
    {
        Tables?.TakeEffect();
        try
        {
            await _dialect.PingAsync(ct);
        }
        catch (Exception e) when (_dialect.AsUnavailable(e) is { } outage)
        {
            throw outage;
        }
    }

    public ValueTask DisposeAsync() => _dialect.DisposeAsync();

    public void Dispose() => _dialect.Dispose();
}

/// <summary>Storage's log messages, generated at compile time.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(6, LogLevel.Warning,
        "A write was made but could not be announced through Redis: other instances may serve what it changed until their caches age out "
        + "(Postern:Cache:MaxAgeSeconds)")]
    public static partial void WriteNotAnnounced(this ILogger logger, Exception error);
}
