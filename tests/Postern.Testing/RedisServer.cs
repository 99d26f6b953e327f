using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Postern.Testing;

/// <summary>
/// A private Redis for the tests: Debian's redis-server on a free loopback port, with its own folder and
/// configuration, keeping nothing on disk unless asked to (<c>appendonly yes</c>, so that a restart keeps the data,
/// as compose runs it). A test may stop it and start it again on the same port. Run under a
/// <see cref="WatchedProcess"/>, so it never outlives the test host; stopped by its own PID. Installing redis-server
/// is the test command's job (scripts/test.sh).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string RedisServerPath = "/usr/bin/redis-server";

    private WatchedProcess? _process;

    private RedisServer(string folder, int port)
    {
        Folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>redis.conf, redis.log and, with append-only on, the append-only files.</summary>
    public string Folder { get; }

    /// <summary>What <c>--redis</c>, <c>POSTERN_REDIS</c> and <c>Postern:Redis:Configuration</c> take.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>The running server's PID, or null while it is stopped.</summary>
    public int? Pid => _process?.Pid;

    /// <param name="appendOnly">Keep the data across a restart (<c>appendonly yes</c>); by default nothing is written to disk.</param>
    public static async Task<RedisServer> StartAsync(bool appendOnly = false)
    {
        if (!File.Exists(RedisServerPath))
            throw new InvalidOperationException(
                $"Redis is not installed ({RedisServerPath} is missing): run scripts/test.sh as root, or apt-get install redis-server.");
        var folder = Directory.CreateTempSubdirectory("postern-redis-").FullName;
        var server = new RedisServer(folder, DjangoPeer.FreePort());
        await File.WriteAllTextAsync(Path.Combine(folder, "redis.conf"), string.Join('\n',
            "bind 127.0.0.1",
            $"port {server.Port.ToString(CultureInfo.InvariantCulture)}",
            $"dir {folder}",
            "daemonize no",
            $"logfile {Path.Combine(folder, "redis.log")}",
            "save \"\"",
            $"appendonly {(appendOnly ? "yes" : "no")}",
            ""));
        try
        {
            await server.StartAgainAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Starts the stopped server again with the same configuration, port and folder; returns once it answers PING.</summary>
    public async Task StartAgainAsync()
    {
        if (_process is not null)
            throw new InvalidOperationException("This Redis is running already.");
        _process = await WatchedProcess.StartAsync(RedisServerPath, [Path.Combine(Folder, "redis.conf")]);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await AnswersPingAsync())
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                var why = _process.HasExited ? $"exited with code {_process.ExitCode}" : "did not answer PING within 30 s";
                var log = File.Exists(Path.Combine(Folder, "redis.log"))
                    ? await File.ReadAllTextAsync(Path.Combine(Folder, "redis.log"))
                    : "(no redis.log)";
                await StopAsync();
                throw new InvalidOperationException($"redis-server on {Configuration} {why}.\n{log}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Stops the server (TERM by its PID: with append-only on, Redis writes its file out first) and waits until it has
    /// exited.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is null)
            return;
        await _process.StopAsync(TimeSpan.FromSeconds(20));
        _process = null;
    }

    /// <summary>
    /// A PING over a fresh connection, answered +PONG: a server still loading its append-only file answers -LOADING,
    /// and someone else's listener on the port would not speak Redis at all.
    /// </summary>
    public async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.ConnectAsync(System.Net.IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
