using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Postern.Testing;

/// <summary>
/// A private PostgreSQL cluster for the tests: Debian's binaries, a fresh data folder, a free loopback
/// port, trust authentication (it listens on 127.0.0.1 only and lives as long as the tests). It never
/// touches a system cluster, and is stopped by its own PID. A test may stop it and start it again on the
/// same port and data (a database restart).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Superuser = "postgres";
    private readonly string _folder;
    private readonly string _bin;
    private int? _postmasterPid;
    private int _databases;
    private bool _frozen;

    private readonly IReadOnlyDictionary<string, string> _settings;

    private PostgresServer(string folder, string bin, int port, IReadOnlyDictionary<string, string> settings)
    {
        _folder = folder;
        _bin = bin;
        Port = port;
        _settings = settings;
    }

    private string Data => Path.Combine(_folder, "data");

    public int Port { get; }

    /// <summary>The postmaster's PID while the cluster runs (its backends are its children).</summary>
    public int? Pid => _postmasterPid;

    /// <summary>initdb refuses to run as root: as root, the cluster belongs to the postgres OS user.</summary>
    private static bool RunAsPostgresUser => Environment.UserName == "root";

    /// <param name="settings">
    /// Server settings over the tests' own (<c>-c NAME=VALUE</c>, given last so they win), e.g. <c>fsync=on</c> and
    /// <c>max_connections=300</c> for a benchmark that should see a durable database's writes.
    /// </param>
    public static async Task<PostgresServer> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var bin = FindBinaries();
        var folder = Directory.CreateTempSubdirectory("postern-pg-").FullName;
        var server = new PostgresServer(folder, bin, FreePort(), settings ?? new Dictionary<string, string>());
        if (RunAsPostgresUser)
            await RunAsync("chown", ["postgres:", folder]);
        await RunClusterToolAsync(Path.Combine(bin, "initdb"),
            ["-D", server.Data, "-U", Superuser, "--auth=trust", "--no-sync", "-E", "UTF8", "--no-locale"]);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the stopped cluster again: same data folder, same port; returns once it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        if (_postmasterPid is not null)
            throw new InvalidOperationException("This cluster is running already.");
        // fsync off: the cluster is thrown away after the tests; the socket folder is private so the system cluster's is untouched.
        var options = $"-p {Port} -c listen_addresses=127.0.0.1 -k {_folder}"
            + $" -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
            + string.Concat(_settings.Select(setting => $" -c {setting.Key}={setting.Value}"));
        await RunClusterToolAsync(Path.Combine(_bin, "pg_ctl"),
            ["start", "-w", "-t", "60", "-D", Data, "-l", Path.Combine(_folder, "postgres.log"), "-o", options]);
        _postmasterPid = int.Parse(
            File.ReadLines(Path.Combine(Data, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// PostgreSQL's fast shutdown (SIGINT to the postmaster, by its PID: it ends every session and exits); waits for
    /// the exit.
    /// </summary>
    public async Task StopAsync()
    {
        if (_postmasterPid is not { } pid)
            return;
        if (_frozen)
            await ThawAsync(); // a stopped postmaster would not see the SIGINT below
        _postmasterPid = null;
        try
        {
            using var postmaster = Process.GetProcessById(pid);
            await RunAsync("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await postmaster.WaitForExitAsync(timeout.Token);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
    }

    /// <summary>A new, empty database; returns its URL in the form <c>--db</c> takes.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"postern_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";
        await ExecuteAsync($"CREATE DATABASE {name};");
        return UrlOf(name);
    }

    /// <summary>The URL of the database <paramref name="name"/> in this cluster, whether it exists or not.</summary>
    public string UrlOf(string name) => $"postgres://{Superuser}@127.0.0.1:{Port}/{name}";

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, ending the sessions still connected to it.</summary>
    public async Task DropDatabaseAsync(string url)
    {
        var name = new Uri(url).AbsolutePath.TrimStart('/');
        await ExecuteAsync($"DROP DATABASE {name} WITH (FORCE);");
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var db = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username={Superuser};Database=postgres;Pooling=false");
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Stops every process of the cluster (SIGSTOP), as a database host that hangs does: connections stay open and
    /// new ones are accepted by the kernel, but nothing answers. The postmaster first, so it forks no new backend.
    /// </summary>
    public async Task FreezeAsync()
    {
        var pid = _postmasterPid ?? throw new InvalidOperationException("This cluster is not running.");
        _frozen = true;
        await SignalAsync("-STOP", [pid]);
        await SignalAsync("-STOP", ChildrenOf(pid));
    }

    /// <summary>Lets a frozen cluster run again (SIGCONT): its backends answer what they were sent meanwhile.</summary>
    public async Task ThawAsync()
    {
        var pid = _postmasterPid ?? throw new InvalidOperationException("This cluster is not running.");
        await SignalAsync("-CONT", ChildrenOf(pid));
        await SignalAsync("-CONT", [pid]);
        _frozen = false;
    }

    /// <summary>kill(1) signals every PID it can; one that ended meanwhile is no failure.</summary>
    private static Task SignalAsync(string signal, List<int> pids) =>
        pids.Count == 0 ? Task.CompletedTask
            : RunAsync("kill",
                [signal, .. pids.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))], mustSucceed: false);

    /// <summary>
    /// The PIDs whose parent is <paramref name="parent"/>, from /proc (the backends and helpers of a postmaster are its
    /// children).
    /// </summary>
    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid))
                continue;
            try
            {
                // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent)
                    children.Add(pid);
            }
            catch (IOException)
            {
                // the process ended while we looked
            }
        }
        return children;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await StopAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string FindBinaries()
    {
        var root = "/usr/lib/postgresql";
        var newest = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(d => (Folder: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(d => File.Exists(Path.Combine(d.Folder, "bin", "initdb")))
                .OrderByDescending(d => d.Version).Select(d => d.Folder).FirstOrDefault()
            : null;
        return newest is null
            ? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql; scripts/test.sh does it).")
            : Path.Combine(newest, "bin");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task RunClusterToolAsync(string tool, string[] arguments) =>
        RunAsPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", tool, .. arguments]) : RunAsync(tool, arguments);

    private static async Task RunAsync(string file, string[] arguments, bool mustSucceed = true)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        // pg_ctl's postmaster inherits the pipes: read to the tool's exit, not to their end.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (mustSucceed && process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await error}{await output}");
    }
}
