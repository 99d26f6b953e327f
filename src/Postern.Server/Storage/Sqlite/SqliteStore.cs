using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Postern.Server.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, a pooled connection per operation. The SQL is
/// <see cref="SqlStore"/>'s; here is what is SQLite's own.
/// </summary>
public sealed class SqliteStore : SqlStore
{
    private const int SqliteConstraint = 19;
    private readonly string _connectionString;
    private readonly string _pingConnectionString;

    public SqliteStore(string path)
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
    }

    public string Path { get; }

    // ---- the dialect

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct)
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
    protected override StoreUnavailableException? AsUnavailable(Exception e) =>
        e is SqliteException { SqliteErrorCode: not SqliteConstraint } sqlite ? Unavailable(sqlite) : null;

    private StoreUnavailableException Unavailable(SqliteException e) => new($"SQLite error {e.SqliteErrorCode} on {Path}.", e);

    protected override bool OneWriterAtATime => true;

    /// <summary>BEGIN IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking on upgrade.</summary>
    protected override Task<DbTransaction> BeginWriteAsync(DbConnection db, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult<DbTransaction>(((SqliteConnection)db).BeginTransaction(deferred: false));
    }

    // SQLite's extended result codes say which kind of constraint it was.
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteConstraintForeignKey = 787;

    protected override bool IsUniqueViolation(DbException e) =>
        e is SqliteException { SqliteExtendedErrorCode: SqliteConstraintUnique or SqliteConstraintPrimaryKey };

    protected override bool IsForeignKeyViolation(DbException e) => e is SqliteException { SqliteExtendedErrorCode: SqliteConstraintForeignKey };

    /// <summary>One parameter per value, <c>IN (@v0, @v1, …)</c>: SQLite has no array type.</summary>
    protected override string IsOneOf(DbCommand command, string column, IReadOnlyCollection<long> values)
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

    // ---- administration

    public override Task MigrateAsync(CancellationToken ct = default)
    {
        CreateFolder();
        return RunAsync(async db =>
        {
            await db.Command("PRAGMA journal_mode=WAL;").ExecuteAsync();
            await using var tx = await BeginWriteAsync(db, ct);
            await ApplyMigrationsAsync(db, tx, SqliteSchema.Migrations);
            await tx.CommitAsync(ct);
            return 0;
        }, ct);
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
    public override async Task PingAsync(CancellationToken ct = default)
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
}
