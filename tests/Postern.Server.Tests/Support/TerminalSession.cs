using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Postern.Testing;

namespace Postern.Server.Tests.Support;

/// <summary>What a command at a terminal showed (its stdout and stderr, as one screen) and returned.</summary>
public sealed record TerminalResult(int ExitCode, string Screen, bool AllPromptsSeen)
{
    public override string ToString() => $"exit {ExitCode}, every prompt seen: {AllPromptsSeen}\n--- screen\n{Screen}";
}

/// <summary>
/// The real Postern executable at a terminal, as an operator types at it: Python's <c>pty</c> module gives it a
/// pseudo-terminal (so it prompts and reads keys without echo), waits for each expected prompt and types the answer.
/// </summary>
public static class TerminalSession
{
    private const string Script = """
        import json, os, pty, select, sys, time
        request = json.load(sys.stdin)
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(request["cwd"])
            os.execvpe(request["argv"][0], request["argv"], request["env"])
        screen = b""
        def read(until, seconds):
            global screen
            deadline = time.monotonic() + seconds
            while not until():
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    return False
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    return until()
                screen += data
            return True
        seen, complete = 0, True
        for expect, answer in request["steps"]:
            wanted = expect.encode()
            if not read(lambda: screen.find(wanted, seen) >= 0, 30):
                complete = False
                break
            seen = screen.find(wanted, seen) + len(wanted)
            # The prompt is written just before the key reading starts: give it a moment to switch the terminal's mode.
            time.sleep(0.3)
            os.write(fd, answer.encode())
        read(lambda: False, 30 if complete else 2)
        os.kill(pid, 9) if not complete else None
        _, status = os.waitpid(pid, 0)
        json.dump({"exit": os.waitstatus_to_exitcode(status), "screen": screen.decode("utf-8", "replace"), "complete": complete},
                  sys.stdout)
        """;

    /// <param name="steps">Each prompt to wait for (after the previous one), and what to type then (<c>\r</c> is Enter).</param>
    public static async Task<TerminalResult> RunAsync(string workingFolder, IEnumerable<string> args,
        IReadOnlyList<(string Prompt, string Typed)> steps)
    {
        var start = PosternProcess.StartInfo(workingFolder, args);
        var environment = start.Environment.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!);
        environment["TERM"] = "xterm";
        var request = JsonSerializer.Serialize(new
        {
            cwd = workingFolder,
            argv = new[] { start.FileName }.Concat(start.ArgumentList).ToArray(),
            env = environment,
            steps = steps.Select(s => new[] { s.Prompt, s.Typed }).ToArray(),
        });
        var python = new ProcessStartInfo("/usr/bin/python3", ["-c", Script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        using var process = Process.Start(python) ?? throw new InvalidOperationException("python3 did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(request);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30 * (steps.Count + 2)));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"The terminal harness failed:\n{await stderr}");
        using var answer = JsonDocument.Parse(await stdout);
        var root = answer.RootElement;
        return new TerminalResult(root.GetProperty("exit").GetInt32(), root.GetProperty("screen").GetString()!,
            root.GetProperty("complete").GetBoolean());
    }
}
