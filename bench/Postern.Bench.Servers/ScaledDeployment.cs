using System.Diagnostics;
using System.Globalization;
using Postern.Testing;

namespace Postern.Bench.Servers;

/// <summary>
/// What the deployments of <c>--scale</c> share, as they would in production: one PostgreSQL cluster (each deployment has
/// a database of its own in it) and one Redis. Both private to the run: Debian's binaries, a temporary folder, a free
/// loopback port, stopped by their own PIDs (the tests' <see cref="PostgresServer"/> and <see cref="RedisServer"/>).
/// </summary>
public sealed class ScaleInfrastructure : IAsyncDisposable
{
    /// <summary>
    /// Over the test cluster's settings: durable commits (the tests turn fsync off), and connections for two instances'
    /// pools and gunicorn's workers with room to spare.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> PostgresSettings = new Dictionary<string, string>
    {
        ["fsync"] = "on",
        ["full_page_writes"] = "on",
        ["synchronous_commit"] = "on",
        ["max_connections"] = "300",
    };

    private ScaleInfrastructure(PostgresServer postgres, RedisServer redis)
    {
        Postgres = postgres;
        Redis = redis;
    }

    public PostgresServer Postgres { get; }
    public RedisServer Redis { get; }

    public static async Task<ScaleInfrastructure> StartAsync()
    {
        var postgres = await PostgresServer.StartAsync(PostgresSettings);
        try
        {
            return new ScaleInfrastructure(postgres, await RedisServer.StartAsync());
        }
        catch
        {
            await postgres.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Redis.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}

/// <summary>
/// A deployment of <c>--scale</c>: application servers (each a <see cref="ServerProcess"/>) behind Debian's nginx running
/// the repository's template (deploy/nginx/postern.conf.template, rendered as the tests render it: <see cref="NginxProxy"/>),
/// plain HTTP on loopback. The benchmark drives nginx; memory is the application servers', summed.
/// </summary>
public sealed class ScaledDeployment : IBenchedServer
{
    /// <summary>How long a SIGTERMed instance may take to finish what it serves and exit.</summary>
    private static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(60);

    private readonly List<(ProcessStartInfo Start, int Port)> _starts;
    private readonly List<ServerProcess> _instances;
    private readonly NginxProxy _nginx;

    private ScaledDeployment(string name, List<(ProcessStartInfo, int)> starts, List<ServerProcess> instances, NginxProxy nginx)
    {
        Name = name;
        _starts = starts;
        _instances = instances;
        _nginx = nginx;
    }

    public string Name { get; }
    public Uri BaseAddress => _nginx.BaseAddress;

    /// <summary>The application servers' addresses, as nginx's access log names them (<c>127.0.0.1:PORT</c>).</summary>
    public IReadOnlyList<string> InstanceAddresses => _starts.Select(s => $"127.0.0.1:{s.Port}").ToList();

    /// <summary>nginx's access log: one line per request, with the instance that answered (<c>upstream=ADDRESS</c>).</summary>
    public string AccessLog => _nginx.AccessLog;

    public long ResidentBytes => _instances.Sum(i => i.HasExited ? 0 : i.ResidentBytes);
    public long PeakBytes => _instances.Sum(i => i.HasExited ? 0 : i.PeakBytes);

    public void ResetPeak()
    {
        foreach (var instance in _instances)
            instance.ResetPeak();
    }

    /// <summary>
    /// Postern as the README deploys it: <paramref name="instances"/> instances of <c>serve</c> on one new PostgreSQL database
    /// (with <c>--redis</c> when <paramref name="withRedis"/>: the change counter in Redis; without it, in PostgreSQL),
    /// trusting nginx's forwarded headers as the compose file does, seeded like the Django peer through the first one.
    /// </summary>
    public static async Task<ScaledDeployment> StartPosternAsync(ScaleInfrastructure infrastructure, bool withRedis, int instances = 2)
    {
        var database = await infrastructure.Postgres.CreateDatabaseAsync();
        string[] arguments = withRedis ? ["--db", database, "--redis", infrastructure.Redis.Configuration] : ["--db", database];
        await PosternServer.CreateUsersAsync(database, arguments[2..]);
        var environment = new Dictionary<string, string>
        {
            ["Postern__Proxy__TrustForwardedProto"] = "true",
            ["Postern__Proxy__TrustForwardedHost"] = "true",
            ["Postern__Proxy__TrustedProxyCount"] = "1",
        };
        var starts = Enumerable.Range(0, instances).Select(_ => ServerProcess.FreePort())
            .Select(port => (PosternServer.Start(port, arguments, environment), port)).ToList();
        var started = new List<ServerProcess>();
        try
        {
            foreach (var (start, port) in starts)
            {
                started.Add(await ServerProcess.StartAsync($"{PosternServer.Name} :{port}", start, port));
                if (started.Count == 1)
                    await PosternServer.SeedThroughApiAsync(started[0].BaseAddress);
            }
            var name = $"{PosternServer.Name} ×{instances} ({(withRedis ? "PostgreSQL + Redis" : "PostgreSQL alone")})";
            return await BehindNginxAsync(name, starts, started);
        }
        catch
        {
            foreach (var instance in started)
                await instance.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The Django reference backend (5.2) as a Django team deploys it: gunicorn with <paramref name="workers"/> sync workers
    /// behind the same nginx configuration, on a new database of the same cluster (persistent connections:
    /// <c>CONN_MAX_AGE</c> 60), Django's RedisCache on the same Redis and <c>cached_db</c> sessions.
    /// </summary>
    public static async Task<ScaledDeployment> StartDjangoAsync(ScaleInfrastructure infrastructure, int workers)
    {
        var database = await infrastructure.Postgres.CreateDatabaseAsync();
        var port = ServerProcess.FreePort();
        var start = new ProcessStartInfo("bash");
        start.ArgumentList.Add(Path.Combine(BuildOutput.DjangoReferenceBackend(), "run.sh"));
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(workers.ToString(CultureInfo.InvariantCulture));
        start.Environment["DJANGO"] = "5.2";
        start.Environment[DjangoPeer.DatabaseVariable] = database;
        start.Environment["DJANGO_BACKEND_CONN_MAX_AGE"] = "60";
        start.Environment["DJANGO_BACKEND_REDIS_URL"] = $"redis://{infrastructure.Redis.Configuration}/0";
        start.Environment["DJANGO_BACKEND_SESSION_ENGINE"] = "cached_db";
        var gunicorn = await ServerProcess.StartAsync(DjangoPeerServer.Name, start, port);
        try
        {
            return await BehindNginxAsync($"Django 5.2 (gunicorn, {workers} workers)", [(start, port)], [gunicorn]);
        }
        catch
        {
            await gunicorn.DisposeAsync();
            throw;
        }
    }

    private static async Task<ScaledDeployment> BehindNginxAsync(string name, List<(ProcessStartInfo, int)> starts, List<ServerProcess> started)
    {
        var nginx = await NginxProxy.StartAsync(new NginxProxyOptions
        {
            Upstreams = started.Select(s => s.BaseAddress).ToList(),
            Tls = false,
            WorkerProcesses = "auto",
            BufferAccessLog = true,
        });
        return new ScaledDeployment(name, starts, started, nginx);
    }

    /// <summary>
    /// Stops instance <paramref name="index"/> gracefully (SIGTERM, by its PID; it finishes what it serves) and starts it
    /// again on the same port with the same settings; returns once it answers again.
    /// </summary>
    public async Task<InstanceRestart> RestartInstanceAsync(int index)
    {
        var clock = Stopwatch.StartNew();
        var stopping = _instances[index];
        var exit = await stopping.StopGracefullyAsync(StopPatience);
        var exitCode = stopping.ExitCode;
        await stopping.DisposeAsync();
        var (start, port) = _starts[index];
        var restarted = clock.Elapsed;
        _instances[index] = await ServerProcess.StartAsync(stopping.Name, start, port);
        return new InstanceRestart($"127.0.0.1:{port}", exit, exitCode, clock.Elapsed - restarted);
    }

    public async ValueTask DisposeAsync()
    {
        await _nginx.DisposeAsync();
        foreach (var instance in _instances)
            await instance.DisposeAsync();
    }
}

/// <summary>One instance's restart: how long it took to exit after SIGTERM (and with which code), and to answer again.</summary>
public sealed record InstanceRestart(string Address, TimeSpan Exit, int ExitCode, TimeSpan Start);
