using System.Diagnostics;
using System.Text;

namespace Postern.Cli.Tests;

/// <summary>What one run of <c>postern</c> did.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// One user's machine, as far as the CLI can tell: its own <c>XDG_CONFIG_HOME</c> (and <c>HOME</c>) in a
/// temporary folder, so sessions never leak between tests. Runs the real <c>postern</c> as a process
/// (<c>dotnet postern.dll</c>) with stdin, stdout and stderr redirected, so none of them is a terminal.
/// </summary>
public sealed class CliHome : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    public string Folder { get; } = Directory.CreateTempSubdirectory("postern-cli-test-").FullName;
    public string ConfigHome => Path.Combine(Folder, "config");
    public string SessionsFolder => Path.Combine(ConfigHome, "postern", "sessions");

    /// <summary>Where a login without --session saves: one file per host and port.</summary>
    public string HostSessionFile(Uri backend) => Path.Combine(SessionsFolder, $"{backend.Host}_{backend.Port}.json");

    /// <summary>Starts from a copy of a saved session, as the host's session and the current one (what a login here would leave).</summary>
    public void Adopt(string sessionFile, Uri backend)
    {
        Directory.CreateDirectory(SessionsFolder);
        var file = HostSessionFile(backend);
        File.Copy(sessionFile, file, overwrite: true);
        File.WriteAllText(Path.Combine(ConfigHome, "postern", "current"), file + "\n");
    }

    public Task<CliResult> RunAsync(params string[] args) => RunAsync(args, stdin: null);

    /// <summary>Logs in with --password-stdin, the seeded users' passwords being USERNAME-password.</summary>
    public Task<CliResult> LoginAsync(Uri backend, string username, params string[] more) =>
        RunAsync(["login", backend.ToString(), username, "--password-stdin", .. more], stdin: username + "-password\n");

    /// <param name="program">
    /// null: <paramref name="args"/> is a whole command line of another program (e.g. <c>script</c>) run in this home.
    /// </param>
    public async Task<CliResult> RunAsync(
        string[] args, string? stdin, IReadOnlyDictionary<string, string>? environment = null, string? program = "postern")
    {
        var start = new ProcessStartInfo(program is null ? args[0] : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (program is not null)
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "postern.dll"));
        foreach (var arg in program is null ? args[1..] : args)
            start.ArgumentList.Add(arg);
        start.Environment["XDG_CONFIG_HOME"] = ConfigHome;
        start.Environment["HOME"] = Folder;
        start.Environment.Remove("NO_COLOR");
        start.Environment.Remove("FORCE_COLOR");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start postern");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
            await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(RunTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"postern {string.Join(' ', args)} did not finish within {RunTimeout.TotalSeconds} s");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Whether <see cref="RunInTerminalAsync"/> can run here (util-linux's <c>script</c> makes the pseudo-terminal).</summary>
    public static bool HasTerminal => !OperatingSystem.IsWindows() && File.Exists("/usr/bin/script");

    /// <summary>
    /// Runs postern with stdin, stdout and stderr on one pseudo-terminal (util-linux's <c>script</c>), typing each of
    /// <paramref name="typedLines"/> (printf format, Enter added) two seconds after the one before, the first after a
    /// second, as a person answering prompts would: type-ahead before a prompt would be echoed by the terminal, not by
    /// us. What the terminal shows comes back as Stdout.
    /// </summary>
    public Task<CliResult> RunInTerminalAsync(string commandLine, params string[] typedLines)
    {
        var postern = $"dotnet {Path.Combine(AppContext.BaseDirectory, "postern.dll")} {commandLine}";
        var typing = string.Join("; sleep 2; ", typedLines.Select(line => $"printf '{line}\\r'"));
        var input = typedLines.Length == 0 ? "sleep 1" : $"sleep 1; {typing}";
        return RunAsync(["bash", "-c", $"({input}) | script --quiet --return --command '{postern}' /dev/null"],
            stdin: null, new Dictionary<string, string> { ["TERM"] = "xterm" }, program: null);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
