using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using Postern.Server.Storage.Postgres;

namespace Postern.Testing;

/// <summary>
/// Which store a test server gets when the test does not name one: a SQLite file by default, or a fresh
/// database in one PostgreSQL cluster shared by the test process when <c>POSTERN_TEST_STORE=postgres</c>,
/// so that the same suites run on both stores (scripts/test.sh runs them both ways). Also the way tests
/// reach a database behind Postern's back, as another tool or instance would, whichever store it is.
/// </summary>
public static class TestStore
{
    public const string Variable = "POSTERN_TEST_STORE";

    private static readonly Lazy<Task<PostgresServer>> SharedCluster = new(StartSharedClusterAsync);

    public static bool UsesPostgres =>
        string.Equals(Environment.GetEnvironmentVariable(Variable), "postgres", StringComparison.OrdinalIgnoreCase);

    /// <summary>A database nobody has used: <c>folder/name.sqlite3</c> (not created yet), or a new, empty PostgreSQL database.</summary>
    public static async Task<string> NewDatabaseAsync(string folder, string name = "postern") =>
        UsesPostgres ? await (await SharedCluster.Value).CreateDatabaseAsync() : Path.Combine(folder, name + ".sqlite3");

    /// <summary>
    /// A database Postern cannot open: a file in <paramref name="folder"/> that is no SQLite database, or a PostgreSQL
    /// database that does not exist.
    /// </summary>
    public static async Task<string> UnusableDatabaseAsync(string folder)
    {
        if (UsesPostgres)
            return (await SharedCluster.Value).UrlOf("postern_no_such_database");
        var path = Path.Combine(folder, "not-a-database.sqlite3");
        await File.WriteAllTextAsync(path, "this is not an SQLite database, but long enough to look like one to a careless reader....");
        return path;
    }

    /// <summary>Takes the database away under a running server: the SQLite file is deleted, the PostgreSQL database dropped.</summary>
    public static async Task DestroyDatabaseAsync(string database)
    {
        if (PostgresDatabaseUrl.IsPostgres(database))
        {
            await (await SharedCluster.Value).DropDatabaseAsync(database);
            return;
        }
        foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
            File.Delete(database + suffix);
    }

    /// <summary>
    /// Runs a statement with <c>@name</c> parameters, e.g. <c>("@id", 2)</c>, on its own connection; returns the rows
    /// it changed.
    /// </summary>
    public static async Task<int> ExecuteAsync(string database, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var db = await ConnectAsync(database);
        await using var command = CommandOf(db, sql, parameters);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The first column of the first row of a query as a long (either store's integer width; 0 for NULL), on its own
    /// connection.
    /// </summary>
    public static async Task<long> QueryInt64Async(string database, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var db = await ConnectAsync(database);
        await using var command = CommandOf(db, sql, parameters);
        return await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;
    }

    private static DbCommand CommandOf(DbConnection db, string sql, (string Name, object? Value)[] parameters)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>The first column of every row of a query, as text (NULL as an empty string), on its own connection.</summary>
    public static async Task<IReadOnlyList<string>> QueryTextsAsync(string database, string sql,
        params (string Name, object? Value)[] parameters)
    {
        await using var db = await ConnectAsync(database);
        await using var command = CommandOf(db, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var texts = new List<string>();
        while (await reader.ReadAsync())
            texts.Add(reader.IsDBNull(0) ? "" : Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture) ?? "");
        return texts;
    }

    /// <summary>
    /// Everything the schema is made of, one line each, sorted: on SQLite every object in sqlite_master with the text of the
    /// statement that created it; on PostgreSQL every column (type, nullability, default, identity), constraint and index.
    /// Two databases with the same lines have the same schema.
    /// </summary>
    public static Task<IReadOnlyList<string>> SchemaAsync(string database) =>
        QueryTextsAsync(database, PostgresDatabaseUrl.IsPostgres(database) ? PostgresSchema : SqliteSchema);

    private const string SqliteSchema =
        "SELECT type || ' ' || name || ' on ' || tbl_name || ': ' || COALESCE(sql, '-') FROM sqlite_master ORDER BY type, name;";

    private const string PostgresSchema =
        """
        SELECT line FROM (
            SELECT 'column ' || table_name || '.' || column_name || ' #' || ordinal_position || ' ' || data_type
                   || ' nullable=' || is_nullable || ' default=' || COALESCE(column_default, '-')
                   || ' identity=' || is_identity || ' ' || COALESCE(identity_generation, '-') AS line
            FROM information_schema.columns WHERE table_schema = 'public'
            UNION ALL
            SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'index ' || tablename || ' ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
        ) schema ORDER BY line;
        """;

    /// <summary>The names of the database's tables in name order; none for a SQLite file that does not exist yet.</summary>
    public static async Task<IReadOnlyList<string>> TablesAsync(string database)
    {
        var postgres = PostgresDatabaseUrl.IsPostgres(database);
        if (!postgres && !File.Exists(database))
            return [];
        await using var db = await ConnectAsync(database);
        var sql = postgres
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name;"
            : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;";
        await using var command = CommandOf(db, sql, []);
        await using var reader = await command.ExecuteReaderAsync();
        var tables = new List<string>();
        while (await reader.ReadAsync())
            tables.Add(reader.GetString(0));
        return tables;
    }

    /// <summary>
    /// An unpooled connection to a SQLite path or a <c>postgres://</c> URL: nothing stays open after the test
    /// (a pooled SQLite connection would keep a deleted file alive; a pooled PostgreSQL one would hold the database).
    /// </summary>
    public static async Task<DbConnection> ConnectAsync(string database)
    {
        DbConnection db = PostgresDatabaseUrl.IsPostgres(database)
            ? new NpgsqlConnection(
                new NpgsqlConnectionStringBuilder(PostgresDatabaseUrl.ToConnectionString(database)) { Pooling = false }.ConnectionString)
            : new SqliteConnection(
                new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        try
        {
            await db.OpenAsync();
            return db;
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    private static async Task<PostgresServer> StartSharedClusterAsync()
    {
        var cluster = await PostgresServer.StartAsync();
        // One cluster for the whole test process, stopped (by its own PID) when the process ends.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return cluster;
    }
}
