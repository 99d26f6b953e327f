using System.Data.Common;
using System.Net.Sockets;
using Npgsql;
using Postern.Server.Storage.Schema;

namespace Postern.Server.Storage.Postgres;

/// <summary>The shared database: one PostgreSQL database that several instances use at once, a pooled connection per operation.</summary>
internal sealed class PostgresDialect : SqlDialect
{
    private const string UniqueViolation = "23505";
    private const string ForeignKeyViolation = "23503";

    /// <summary>Any fixed number: every instance takes the same lock, so concurrent migrations run one after another.</summary>
    private const long MigrationLockKey = 0x506F737465726E; // "Postern"

    private readonly NpgsqlDataSource _dataSource;

    public PostgresDialect(string url)
    {
        Description = PostgresDatabaseUrl.Redact(url);
        try
        {
            _dataSource = NpgsqlDataSource.Create(PostgresDatabaseUrl.ToConnectionString(url));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            // An operator's mistake in --db, reported in one line like an unusable SQLite path.
            throw new StoreUnavailableException($"Not a usable PostgreSQL URL: {Description}", e);
        }
    }

    /// <summary>The database URL without its password.</summary>
    public override string Description { get; }

    public override SchemaDialect Schema => SchemaDialect.Postgres;

    public override async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await base.DisposeAsync();
    }

    public override void Dispose()
    {
        _dataSource.Dispose();
        base.Dispose();
    }

    public override async Task<DbConnection> OpenAsync(CancellationToken ct) => await _dataSource.OpenConnectionAsync(ct);

    /// <summary>
    /// Connectivity and server-side failures (the request may be retried later) become a 503; integrity
    /// violations (SQLSTATE class 23) are the caller's business, as SQLite's constraint errors are.
    /// </summary>
    public override StoreUnavailableException? AsUnavailable(Exception e) => e switch
    {
        PostgresException postgres when postgres.SqlState.StartsWith("23", StringComparison.Ordinal) => null,
        NpgsqlException or SocketException or TimeoutException => new($"PostgreSQL at {Description} is unavailable: {e.Message}", e),
        _ => null,
    };

    public override bool IsUniqueViolation(DbException e) => e is PostgresException { SqlState: UniqueViolation };

    /// <summary>
    /// From the constraint's name, which PostgreSQL makes <c>table_column_key</c> for a column's UNIQUE (the message that
    /// names the value is redacted by Npgsql); another constraint's name as it is.
    /// </summary>
    public override string? ViolatedUniqueColumn(DbException e)
    {
        if (e is not PostgresException { ConstraintName: { } constraint } postgres)
            return null;
        var prefix = postgres.TableName + "_";
        const string suffix = "_key";
        return constraint.StartsWith(prefix, StringComparison.Ordinal) && constraint.EndsWith(suffix, StringComparison.Ordinal)
            && constraint.Length > prefix.Length + suffix.Length
            ? constraint[prefix.Length..^suffix.Length]
            : constraint;
    }

    public override bool IsForeignKeyViolation(DbException e) => e is PostgresException { SqlState: ForeignKeyViolation };

    /// <summary>The values as one array parameter, <c>= ANY(@ids)</c>: one statement text whatever their number.</summary>
    public override string IsOneOf(DbCommand command, string column, IReadOnlyCollection<long> values)
    {
        command.With("@ids", values.ToArray());
        return $"{column} = ANY(@ids)";
    }

    /// <summary>
    /// Rows that another transaction has locked are passed over rather than waited for: without it, a second claimer would
    /// wait for the first and then update the very row the first claimed.
    /// </summary>
    public override string SkipLockedRows => " FOR UPDATE SKIP LOCKED";

    /// <summary>Under a transaction-scoped advisory lock: without it, racing CREATE TABLEs fail with duplicate-object errors.</summary>
    public override async Task MigrateAsync(Func<DbConnection, DbTransaction, Task> apply, CancellationToken ct)
    {
        await using var db = await OpenAsync(ct);
        await using var tx = await BeginWriteAsync(db, ct);
        await db.Command("SELECT pg_advisory_xact_lock(@MigrationLockKey);", tx)
            .With("@MigrationLockKey", MigrationLockKey).ExecuteAsync(ct);
        await apply(db, tx);
        await tx.CommitAsync(ct);
    }

    /// <summary>A round trip to the server itself (the pool hands out a live connection or fails).</summary>
    public override async Task PingAsync(CancellationToken ct)
    {
        await using var db = await OpenAsync(ct);
        await db.Command("SELECT 1;").ReadInt64Async(ct);
    }

    // An identity column's sequence does not move for explicit ids: move it past the largest id, or the next insert collides.
    public override string? ResumeIdsAfter(string table) =>
        $"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1));";
}
