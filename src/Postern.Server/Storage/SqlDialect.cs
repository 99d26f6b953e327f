using System.Data.Common;
using Postern.Server.Storage.Postgres;
using Postern.Server.Storage.Schema;
using Postern.Server.Storage.Sqlite;

namespace Postern.Server.Storage;

/// <summary>
/// What differs between SQLite and PostgreSQL, and only that: how a connection opens and which of its errors mean an
/// outage, how a write transaction begins, what a violated constraint looks like, how a list parameter is matched, what
/// the schema says differently, and how a migration keeps clear of another one. Every statement of the stores is valid
/// in both (SQLite since 3.39 understands <c>IS DISTINCT FROM</c> and <c>ON CONFLICT DO NOTHING</c>); running them,
/// caching their results and announcing writes is <see cref="Database"/>'s business.
/// </summary>
internal abstract class SqlDialect : IAsyncDisposable, IDisposable
{
    /// <summary>The database <c>--db</c> names: a <c>postgres://</c> URL selects PostgreSQL, anything else is a SQLite path.</summary>
    /// <param name="sqliteWritesPerCommit">On SQLite, how many waiting writes may share a commit (<see cref="SqliteGroupCommit"/>).</param>
    public static SqlDialect Open(string database, int sqliteWritesPerCommit = SqliteGroupCommit.DefaultWritesPerCommit) =>
        PostgresDatabaseUrl.IsPostgres(database) ? new PostgresDialect(database) : new SqliteDialect(database, sqliteWritesPerCommit);

    /// <summary>Where the data is, for messages: a SQLite file's full path, or a PostgreSQL URL without its password.</summary>
    public abstract string Description { get; }

    public abstract SchemaDialect Schema { get; }

    /// <summary>An open connection, pooled or not as the dialect decides.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>The 503 for an error that means the database cannot serve now; null for any other error (a bug, a constraint).</summary>
    public abstract StoreUnavailableException? AsUnavailable(Exception e);

    /// <summary>A transaction for a write; by default the provider's plain BEGIN.</summary>
    public virtual async Task<DbTransaction> BeginWriteAsync(DbConnection db, CancellationToken ct) => await db.BeginTransactionAsync(ct);

    /// <summary>
    /// Runs a write on a connection: by default one of its own, opened for it (PostgreSQL takes many writers at once).
    /// SQLite's writes go one at a time through its group commit (<see cref="SqliteGroupCommit"/>).
    /// </summary>
    public virtual async Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken ct)
    {
        await using var db = await OpenAsync(ct);
        return await write(db);
    }

    /// <summary>Whether <paramref name="e"/> is a unique (or primary key) constraint that a write ran into.</summary>
    public abstract bool IsUniqueViolation(DbException e);

    /// <summary>The column a unique violation names, as the database reports it; null when it does not say.</summary>
    public abstract string? ViolatedUniqueColumn(DbException e);

    /// <summary>Whether <paramref name="e"/> is a foreign key that a write ran into: the row it refers to is gone.</summary>
    public abstract bool IsForeignKeyViolation(DbException e);

    /// <summary>
    /// A condition true when <paramref name="column"/> is one of <paramref name="values"/>, whose parameters it adds to
    /// <paramref name="command"/>.
    /// </summary>
    public abstract string IsOneOf(DbCommand command, string column, IReadOnlyCollection<long> values);

    /// <summary>
    /// What ends the SELECT of a row that a write is about to claim, so that two instances claiming at once each take a
    /// different row: nothing by default (SQLite's writer holds the whole database while it picks).
    /// </summary>
    public virtual string SkipLockedRows => "";

    /// <summary>
    /// A statement to run after rows were inserted into <paramref name="table"/> with ids of their own (an import keeping
    /// Django's ids), so that the next id handed out is past them; null when the database sees to that itself (SQLite).
    /// </summary>
    public virtual string? ResumeIdsAfter(string table) => null;

    /// <summary>
    /// Runs <paramref name="apply"/> in a write transaction on a connection of its own and commits, such that two processes
    /// migrating one database at once run one after the other.
    /// </summary>
    public abstract Task MigrateAsync(Func<DbConnection, DbTransaction, Task> apply, CancellationToken ct);

    /// <summary>Asks the database itself, for the readiness probe.</summary>
    public abstract Task PingAsync(CancellationToken ct);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Also synchronous: a service provider disposed with Dispose() refuses services that are only IAsyncDisposable.</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}
