using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Postern.Bench.Servers;

/// <summary>What the benchmark drives: one process, or a deployment of several behind nginx.</summary>
public interface IBenchedServer : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Where wrk and the sign-ins send their requests.</summary>
    Uri BaseAddress { get; }

    /// <summary>The resident memory of the server's own processes (a deployment: its application servers, summed).</summary>
    long ResidentBytes { get; }

    /// <summary>The peak of <see cref="ResidentBytes"/> since start or <see cref="ResetPeak"/>.</summary>
    long PeakBytes { get; }

    void ResetPeak();
}

/// <summary>
/// One benchmarked server: a process of its own (so its memory is its own) listening on a free loopback
/// port, ready once <c>GET /auth/csrf</c> answers 200, and killed with its children, by PID, on dispose.
/// </summary>
public sealed class ServerProcess : IBenchedServer
{
    private const int KeptOutputLines = 200;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(string name, Process process, Uri baseAddress)
    {
        Name = name;
        _process = process;
        BaseAddress = baseAddress;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }
    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the server printed, for error messages.</summary>
    public string RecentOutput => string.Join('\n', _output);

    public long ResidentBytes => ProcessMemory.Resident(Pid);
    public long PeakBytes => ProcessMemory.Peak(Pid);

    public void ResetPeak() => ProcessMemory.ResetPeak(Pid);

    /// <summary>
    /// A graceful stop, as a supervisor does it: SIGTERM to the process (by its PID), then wait for its exit; killed with its
    /// children if it has not exited within <paramref name="patience"/>. Returns how long the exit took.
    /// </summary>
    public async Task<TimeSpan> StopGracefullyAsync(TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        if (_process.HasExited)
            return TimeSpan.Zero;
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
        })!)
            await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(patience);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            throw new TimeoutException($"{Name} did not exit within {patience.TotalSeconds:0} s of SIGTERM:\n{RecentOutput}");
        }
        return clock.Elapsed;
    }

    public int ExitCode => _process.ExitCode;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A built ASP.NET Core app (<c>dotnet DLL ARGS... --urls URL</c>) in production settings.</summary>
    public static ProcessStartInfo Dotnet(string dll, int port, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)! };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(Url(port).ToString().TrimEnd('/'));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        return start;
    }

    /// <summary>
    /// <paramref name="start"/> run under <c>taskset -c CPUS</c>: for a benchmark whose client and server should
    /// not take each other's cores (on a 2-core box the scheduler otherwise moves both about and every
    /// iteration pays for it differently).
    /// </summary>
    public static ProcessStartInfo PinnedTo(string cpus, ProcessStartInfo start)
    {
        var pinned = new ProcessStartInfo("taskset") { WorkingDirectory = start.WorkingDirectory };
        pinned.ArgumentList.Add("-c");
        pinned.ArgumentList.Add(cpus);
        pinned.ArgumentList.Add(start.FileName);
        foreach (var argument in start.ArgumentList)
            pinned.ArgumentList.Add(argument);
        foreach (var (name, value) in start.Environment)
            pinned.Environment[name] = value;
        return pinned;
    }

    public static Uri Url(int port) => new($"http://127.0.0.1:{port}/");

    /// <summary>
    /// Starts <paramref name="start"/> and waits (up to <paramref name="timeout"/>, default 3 minutes: the box is
    /// shared) until it answers.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string name, ProcessStartInfo start, int port, TimeSpan? timeout = null)
    {
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {name}.");
        var server = new ServerProcess(name, process, Url(port));
        try
        {
            await server.WaitUntilReadyAsync(timeout ?? TimeSpan.FromMinutes(3));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var probe = new HttpClient(new SocketsHttpHandler { UseCookies = false })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(10),
        };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} while starting:\n{RecentOutput}");
            try
            {
                using var response = await probe.GetAsync("/auth/csrf");
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{Name} did not answer on {BaseAddress} within {timeout.TotalSeconds:0} s:\n{RecentOutput}");
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        while (_output.Count > KeptOutputLines)
            _output.TryDequeue(out _);
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
