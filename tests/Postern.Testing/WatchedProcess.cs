using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Postern.Testing;

/// <summary>
/// A server program (nginx, redis-server) run in the foreground under a small shell watchdog. Such programs do not
/// die with their parent: if the test host crashed or were killed before disposing them, they would linger on their
/// ports. The watchdog holds our stdin pipe and stops the program (TERM, by its own PID) when that pipe closes:
/// when <see cref="StopAsync"/> closes it, or the kernel does as the test host dies.
/// </summary>
public sealed class WatchedProcess
{
    /// <summary>
    /// Runs the program ($0 "$@") in the background and prints its pid; a watcher stops it (TERM) when our stdin
    /// closes; the shell exits with the program's status when the program exits on its own.
    /// </summary>
    private const string Watchdog = """
        exec 3<&0
        "$0" "$@" </dev/null 3<&- &
        program=$!
        echo "$program"
        { while read -r _ <&3; do :; done; kill -TERM "$program" 2>/dev/null; } &
        watcher=$!
        wait "$program"
        status=$?
        kill "$watcher" 2>/dev/null
        exit "$status"
        """;

    private readonly Process _shell;
    private readonly ConcurrentQueue<string> _errors = new();

    private WatchedProcess(Process shell, int pid)
    {
        _shell = shell;
        Pid = pid;
    }

    /// <summary>The program's own PID (not the watchdog's).</summary>
    public int Pid { get; }

    public bool HasExited => _shell.HasExited;

    /// <summary>The program's exit status, once it has exited.</summary>
    public int ExitCode => _shell.ExitCode;

    /// <summary>What the program wrote to stderr so far.</summary>
    public string Errors => string.Join('\n', _errors);

    public static async Task<WatchedProcess> StartAsync(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("bash", ["-c", Watchdog, program, .. arguments])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var shell = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var watched = new WatchedProcess(shell,
            int.TryParse(await shell.StandardOutput.ReadLineAsync(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                ? pid
                : -1);
        shell.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                watched._errors.Enqueue(e.Data);
        };
        shell.BeginErrorReadLine();
        return watched;
    }

    /// <summary>
    /// Has the watchdog stop the program and waits for it; if that takes longer than <paramref name="patience"/>, kills
    /// both.
    /// </summary>
    public async Task StopAsync(TimeSpan patience)
    {
        if (!_shell.HasExited)
        {
            try
            {
                _shell.StandardInput.Close();
            }
            catch (IOException)
            {
            }
            using var timeout = new CancellationTokenSource(patience);
            try
            {
                await _shell.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Only the processes this instance started: the watchdog, the program and the program's children.
                _shell.Kill(entireProcessTree: true);
                await _shell.WaitForExitAsync();
            }
        }
        _shell.Dispose();
    }
}
