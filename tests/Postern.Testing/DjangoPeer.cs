using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Postern.Testing;

/// <summary>Which Django release the reference backend (tests/django-backend) runs on: 5.2 LTS, or Debian 12's 3.2.</summary>
public enum PeerKind
{
    Modern,
    Legacy,
}

/// <summary>
/// The Django reference backend (tests/django-backend: real Django + DRF, the "peer" every comparison runs
/// against), started with its run.sh on a free loopback port (fresh SQLite database, its seeded users) and
/// stopped on dispose. Installing it is the test command's job (scripts/test.sh runs its install.sh).
/// Given a database (a SQLite file, or a PostgreSQL URL such as <see cref="PostgresServer.CreateDatabaseAsync"/>
/// makes), run.sh migrates and seeds that one instead, and it is kept.
/// </summary>
public sealed class DjangoPeer : IAsyncDisposable
{
    private readonly Process _process;
    private IDictionary<string, string> _environment = new Dictionary<string, string>();

    private DjangoPeer(Process process, Uri baseAddress, PeerKind kind)
    {
        _process = process;
        BaseAddress = baseAddress;
        Kind = kind;
    }

    /// <summary>The reference backend's database setting: a SQLite file or a PostgreSQL URL (backend/settings.py).</summary>
    public const string DatabaseVariable = "DJANGO_BACKEND_DB";

    public Uri BaseAddress { get; }
    public PeerKind Kind { get; }

    public HttpClient CreateRawClient() => RawHttp.CreateClient(BaseAddress);

    /// <summary>The folder holding the reference backend's run.sh, in this checkout.</summary>
    public static string PeerDirectory() => Path.GetDirectoryName(RepositoryFiles.Find("tests/django-backend/run.sh"))!;

    /// <param name="database">
    /// The database Django runs on (its DJANGO_BACKEND_DB): a SQLite file, or a <c>postgres://</c> URL of an existing
    /// database (Debian's python3-psycopg2); by default a fresh SQLite file that goes with the server.
    /// </param>
    public static async Task<DjangoPeer> StartAsync(PeerKind kind = PeerKind.Modern, IDictionary<string, string>? environment = null,
        string? database = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("bash",
            [Path.Combine(PeerDirectory(), "run.sh"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), "2"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DJANGO"] = kind == PeerKind.Modern ? "5.2" : "3.2";
        if (database is not null)
            start.Environment[DatabaseVariable] = database;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the Django peer.");
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var peer = new DjangoPeer(process, baseAddress, kind) { _environment = new Dictionary<string, string>(start.Environment!) };
        using var probe = RawHttp.CreateClient(baseAddress);
        probe.Timeout = TimeSpan.FromSeconds(5);
        // Migrating a PostgreSQL database takes Django longer than a SQLite file, on a shared machine more.
        var deadline = DateTime.UtcNow.AddSeconds(database is null ? 90 : 180);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                break;
            try
            {
                using var response = await probe.GetAsync("/auth/csrf");
                if (response.StatusCode == HttpStatusCode.OK)
                    return peer;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        await peer.DisposeAsync();
        throw new InvalidOperationException($"The {kind} Django peer did not start on port {port}:\n" + string.Join('\n', log));
    }

    /// <summary>
    /// Runs the reference backend's <c>manage.py</c> with this peer's release and settings (its database), as an operator of
    /// the Django project would beside the running server.
    /// </summary>
    public async Task<CommandResult> ManageAsync(params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", ["manage.py", .. args])
        {
            WorkingDirectory = PeerDirectory(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in _environment)
            start.Environment[name] = value;
        if (Kind == PeerKind.Modern)
        {
            // run.sh's way to Django 5.2: the unpacked tree install.sh left in its cache.
            var cache = Environment.GetEnvironmentVariable("POSTERN_DJANGO_CACHE") ?? "/var/cache/postern/django-5.2";
            start.Environment["PYTHONPATH"] = File.ReadAllText(Path.Combine(cache, "site-packages.path")).Trim();
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not run manage.py.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
