using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Postern.Testing;

/// <summary>What a finished command printed and returned.</summary>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// The real Postern executable (the built Postern.Server.dll under <c>dotnet</c>), run as an operator
/// would: its own process, a working folder of its own, the environment a test gives it.
/// </summary>
public static class PosternProcess
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    public static string ServerDll => typeof(Postern.Server.Hosting.PosternApplication).Assembly.Location;

    /// <summary>
    /// A process start for <c>dotnet Postern.Server.dll args</c>. Stdin is always redirected (as in CI);
    /// POSTERN_DB and POSTERN_REDIS are unset unless the test sets them; hashing is cheap so commands that hash stay fast.
    /// </summary>
    public static ProcessStartInfo StartInfo(
        string workingFolder, IEnumerable<string> args, IDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingFolder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(ServerDll);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment.Remove(Postern.Server.Commands.PosternCommandLine.DatabaseVariable);
        start.Environment.Remove(Postern.Server.Commands.PosternCommandLine.RedisVariable);
        start.Environment["Postern__Accounts__PasswordIterations"] =
            PosternTestServer.FastIterations.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            start.Environment[name] = value;
        return start;
    }

    /// <summary>Runs a command to its end, feeding <paramref name="stdin"/> (then end of input).</summary>
    public static async Task<CommandResult> RunAsync(string workingFolder, IEnumerable<string> args, string? stdin = null,
        IDictionary<string, string?>? environment = null)
    {
        using var process = Process.Start(StartInfo(workingFolder, args, environment))
            ?? throw new InvalidOperationException("dotnet did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null)
                await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // it exited before reading its input; its output says why
        }
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"'{string.Join(' ', args)}' did not exit within {CommandTimeout}.");
        }
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// <c>Postern.Server serve</c> running in its own process until disposed; disposal kills that process
/// (and only it). Output is collected as it comes, so a test can wait for a line.
/// </summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private ServeProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    public string Stdout
    {
        get
        {
            lock (_stdout)
                return _stdout.ToString();
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    /// <summary>The server's own PID (dotnet runs it in its own process).</summary>
    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts <c>serve --db database --urls http://127.0.0.1:port</c> (with <c>--redis</c> when given; on a free port
    /// unless given one) and waits until it answers HTTP.
    /// </summary>
    /// <param name="database">
    /// The <c>--db</c> to give; null gives none (the default database, or POSTERN_DB from
    /// <paramref name="environment"/>).
    /// </param>
    /// <param name="extraArgs">More options for <c>serve</c>, such as <c>--demo-data</c>.</param>
    public static async Task<ServeProcess> StartAsync(string workingFolder, string? database, string? redis = null, int? port = null,
        IDictionary<string, string?>? environment = null, params string[] extraArgs)
    {
        var address = new Uri($"http://127.0.0.1:{port ?? PosternProcess.FreeLoopbackPort()}");
        string[] args =
        [
            "serve", .. database is null ? Array.Empty<string>() : ["--db", database], "--urls", address.ToString().TrimEnd('/'),
            .. redis is null ? Array.Empty<string>() : ["--redis", redis], .. extraArgs,
        ];
        var process = Process.Start(PosternProcess.StartInfo(workingFolder, args, environment))
            ?? throw new InvalidOperationException("dotnet did not start.");
        var serve = new ServeProcess(process, address);
        try
        {
            await serve.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }
        return serve;
    }

    /// <summary>Sends a signal (<c>INT</c>, <c>TERM</c>) to the server's own PID, as Ctrl+C or a supervisor would.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("kill did not start.");
        await kill.WaitForExitAsync();
    }

    /// <summary>
    /// Waits for the process to end by itself; its exit code, or null if it is still running after
    /// <paramref name="timeout"/>.
    /// </summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>SIGKILL, by its PID: no shutdown, no goodbye to clients, as when a machine or container dies.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited)
            return;
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    private async Task WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        using var client = RawHttp.CreateClient(Address);
        client.Timeout = TimeSpan.FromSeconds(2);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"serve exited with {_process.ExitCode}:\n{Stdout}\n{Stderr}");
            try
            {
                using var response = await client.GetAsync(Protocol.EndpointPaths.Csrf);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
            return;
        lock (text)
            text.AppendLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
