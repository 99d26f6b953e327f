using System.Data.Common;
using System.Net.Sockets;
using Npgsql;

namespace Postern.Server.Storage.Postgres;

/// <summary>
/// The shared store: one PostgreSQL database that several instances use at once, a pooled connection
/// per operation. The SQL is <see cref="SqlStore"/>'s, the same as SQLite's; here is what is PostgreSQL's own.
/// </summary>
public sealed class PostgresStore : SqlStore
{
    private const string UniqueViolation = "23505";
    private const string ForeignKeyViolation = "23503";

    /// <summary>Any fixed number: every instance takes the same lock, so concurrent migrations run one after another.</summary>
    private const long MigrationLockKey = 0x506F737465726E; // "Postern"

    private readonly NpgsqlDataSource _dataSource;

    public PostgresStore(string url)
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
    public string Description { get; }

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

    // ---- the dialect

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await _dataSource.OpenConnectionAsync(ct);

    /// <summary>
    /// Connectivity and server-side failures (the request may be retried later) become a 503; integrity
    /// violations (SQLSTATE class 23) are the caller's business, as SQLite's constraint errors are.
    /// </summary>
    protected override StoreUnavailableException? AsUnavailable(Exception e) => e switch
    {
        PostgresException postgres when postgres.SqlState.StartsWith("23", StringComparison.Ordinal) => null,
        NpgsqlException or SocketException or TimeoutException => new($"PostgreSQL at {Description} is unavailable: {e.Message}", e),
        _ => null,
    };

    protected override bool IsUniqueViolation(DbException e) => e is PostgresException { SqlState: UniqueViolation };

    protected override bool IsForeignKeyViolation(DbException e) => e is PostgresException { SqlState: ForeignKeyViolation };

    /// <summary>The values as one array parameter, <c>= ANY(@ids)</c>: one statement text whatever their number.</summary>
    protected override string IsOneOf(DbCommand command, string column, IReadOnlyCollection<long> values)
    {
        command.With("@ids", values.ToArray());
        return $"{column} = ANY(@ids)";
    }

    // ---- administration

    public override Task MigrateAsync(CancellationToken ct = default) => RunAsync(async db =>
    {
        await using var tx = await BeginWriteAsync(db, ct);
        await db.Command("SELECT pg_advisory_xact_lock(@MigrationLockKey);", tx).With("@MigrationLockKey", MigrationLockKey).ExecuteAsync();
        await ApplyMigrationsAsync(db, tx, PostgresSchema.Migrations);
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    /// <summary>A round trip to the server itself (the pool hands out a live connection or fails).</summary>
    public override Task PingAsync(CancellationToken ct = default) =>
        RunAsync(db => db.Command("SELECT 1;").ReadInt64Async(ct), ct);
}
