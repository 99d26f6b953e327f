using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Postern.Server.Storage.Schema;

namespace Postern.Server.Storage.Sqlite;

/// <summary>The embedded database: one SQLite file in WAL mode, a pooled connection per operation.</summary>
internal sealed class SqliteDialect : SqlDialect
{
    private const int SqliteConstraint = 19;
    private readonly string _connectionString;
    private readonly string _pingConnectionString;
    private readonly SqliteGroupCommit _groupCommit;

    /// <param name="writesPerCommit">How many waiting writes may share a commit (<see cref="SqliteGroupCommit"/>).</param>
    public SqliteDialect(string path, int writesPerCommit = SqliteGroupCommit.DefaultWritesPerCommit)
    {
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 10,
        }.ToString();
        _pingConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 2,
        }.ToString();
        _groupCommit = new SqliteGroupCommit(OpenAsync, writesPerCommit);
    }

    /// <summary>The database file's full path.</summary>
    public string Path { get; }

    public override string Description => Path;

    public override SchemaDialect Schema => SchemaDialect.Sqlite;

    public override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var db = new SqliteConnection(_connectionString);
        try
        {
            await db.OpenAsync(ct);
            return db;
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Every SQLite error but a constraint is the database's (locked past the timeout, unreadable, full, not a database);
    /// constraints are the caller's business.
    /// </summary>
    public override StoreUnavailableException? AsUnavailable(Exception e) =>
        e is SqliteException { SqliteErrorCode: not SqliteConstraint } sqlite ? Unavailable(sqlite) : null;

    private StoreUnavailableException Unavailable(SqliteException e) => new($"SQLite error {e.SqliteErrorCode} on {Path}.", e);

    /// <summary>One writer at a time, many writes to a commit: <see cref="SqliteGroupCommit"/>.</summary>
    public override Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken ct) => _groupCommit.RunAsync(write, ct);

    /// <summary>
    /// BEGIN IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking on upgrade. Inside the group
    /// commit's transaction, a savepoint of it.
    /// </summary>
    public override Task<DbTransaction> BeginWriteAsync(DbConnection db, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult<DbTransaction>(_groupCommit.TransactionOf(db) is { } batch
            ? new SqliteSavepoint(batch)
            : ((SqliteConnection)db).BeginTransaction(deferred: false));
    }

    // SQLite's extended result codes say which kind of constraint it was.
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteConstraintForeignKey = 787;

    public override bool IsUniqueViolation(DbException e) =>
        e is SqliteException { SqliteExtendedErrorCode: SqliteConstraintUnique or SqliteConstraintPrimaryKey };

    /// <summary>SQLite's message names the columns: <c>UNIQUE constraint failed: groups.name</c> (several joined by ", ").</summary>
    public override string? ViolatedUniqueColumn(DbException e)
    {
        const string failed = "constraint failed: ";
        var message = (e as SqliteException)?.Message ?? "";
        var start = message.IndexOf(failed, StringComparison.Ordinal);
        if (start < 0)
            return null;
        var columns = message[(start + failed.Length)..].Split('\'')[0];
        var first = columns.Split(", ")[0];
        return first[(first.LastIndexOf('.') + 1)..];
    }

    public override bool IsForeignKeyViolation(DbException e) =>
        e is SqliteException { SqliteExtendedErrorCode: SqliteConstraintForeignKey };

    /// <summary>One parameter per value, <c>IN (@v0, @v1, …)</c>: SQLite has no array type.</summary>
    public override string IsOneOf(DbCommand command, string column, IReadOnlyCollection<long> values)
    {
        var names = new List<string>(values.Count);
        foreach (var value in values)
        {
            var name = "@v" + names.Count.ToString(CultureInfo.InvariantCulture);
            command.With(name, value);
            names.Add(name);
        }
        return $"{column} IN ({string.Join(", ", names)})";
    }

    /// <summary>
    /// WAL first (it outlives the connection, and cannot change inside a transaction), then BEGIN IMMEDIATE: one migrator
    /// at a time.
    /// </summary>
    public override async Task MigrateAsync(Func<DbConnection, DbTransaction, Task> apply, CancellationToken ct)
    {
        CreateFolder();
        await using var db = await OpenAsync(ct);
        await db.Command("PRAGMA journal_mode=WAL;").ExecuteAsync(ct);
        await using var tx = await BeginWriteAsync(db, ct);
        await apply(db, tx);
        await tx.CommitAsync(ct);
    }

    /// <summary>The database's folder must exist before the connection opens: SQLite creates the file, never its folder.</summary>
    private void CreateFolder()
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (string.IsNullOrEmpty(directory))
            return;
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"Cannot create the folder of {Path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// On a fresh, unpooled connection that may not create the file: a pooled connection keeps the file
    /// open and would answer <c>SELECT 1</c> even after the file or its folder was deleted.
    /// </summary>
    public override async Task PingAsync(CancellationToken ct)
    {
        try
        {
            await using var db = new SqliteConnection(_pingConnectionString);
            await db.OpenAsync(ct);
            await db.Command("SELECT 1 FROM schema_version LIMIT 1;").ReadInt64Async(ct);
        }
        catch (SqliteException e)
        {
            throw Unavailable(e);
        }
    }

    /// <summary>Lets the writes already queued commit first.</summary>
    public override async ValueTask DisposeAsync()
    {
        await _groupCommit.DisposeAsync();
        await base.DisposeAsync();
    }

    public override void Dispose()
    {
        _groupCommit.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose();
    }
}
