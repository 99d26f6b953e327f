namespace Postern.Testing;

/// <summary>
/// Which store a test server gets when the test does not name one: a SQLite file by default, or a fresh
/// database in one PostgreSQL cluster shared by the test process when <c>POSTERN_TEST_STORE=postgres</c>,
/// so that the same HTTP-level suites run on both stores (scripts/test.sh runs them both ways).
/// </summary>
public static class TestStore
{
    public const string Variable = "POSTERN_TEST_STORE";

    private static readonly Lazy<Task<PostgresServer>> SharedCluster = new(StartSharedClusterAsync);

    public static bool UsesPostgres => string.Equals(Environment.GetEnvironmentVariable(Variable), "postgres", StringComparison.OrdinalIgnoreCase);

    public static async Task<string> NewDatabaseAsync(string folder) =>
        UsesPostgres ? await (await SharedCluster.Value).CreateDatabaseAsync() : Path.Combine(folder, "postern.sqlite3");

    private static async Task<PostgresServer> StartSharedClusterAsync()
    {
        var cluster = await PostgresServer.StartAsync();
        // One cluster for the whole test process, stopped (by its own PID) when the process ends.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return cluster;
    }
}
