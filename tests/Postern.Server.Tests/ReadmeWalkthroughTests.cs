using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The README's five-minute walkthrough, run as a newcomer would run it: <c>scripts/run-backend.sh --demo-data</c> in a
/// fresh folder, then every <c>$ </c> command of its console block in one bash session. What they print must be
/// what the README shows (<c>…</c> standing for any text), so the two cannot drift apart. The README says
/// http://127.0.0.1:8000; the test runs the server on a free port and swaps the address both ways.
/// </summary>
[Trait("Store", "sqlite-only")]
public sealed partial class ReadmeWalkthroughTests
{
    private const string ReadmeAddress = "127.0.0.1:8000";
    private const string StepMarker = "@@@walkthrough-step@@@";

    [Fact]
    public async Task TheWalkthroughPrintsWhatTheReadmeShows()
    {
        var walkthrough = Walkthrough.Parse(await File.ReadAllTextAsync(RepositoryFiles.Find("README.md")));
        var folder = Directory.CreateTempSubdirectory("postern-walkthrough-").FullName;
        var address = $"127.0.0.1:{PosternProcess.FreeLoopbackPort()}";
        using var server = StartServer(walkthrough.ServerCommand, folder, address);
        try
        {
            await WaitUntilAnsweringAsync(server, address);
            AssertLinesInOrder(walkthrough.ServerOutput, server.Stdout.ToString().Replace(address, ReadmeAddress, StringComparison.Ordinal),
                "the server's first start");

            var (segments, stderr) = await RunSessionAsync(walkthrough.Steps, folder, address);
            for (var i = 0; i < walkthrough.Steps.Count; i++)
            {
                var step = walkthrough.Steps[i];
                var printed = segments[i].Replace(address, ReadmeAddress, StringComparison.Ordinal);
                var actual = printed.Length == 0 ? [] : printed.Split('\n');
                var context = $"README step `$ {step.Command}`\n--- README shows\n{string.Join('\n', step.Output)}"
                    + $"\n--- it printed\n{printed}\n--- stderr\n{stderr}";
                Assert.True(actual.Length == step.Output.Count, context);
                for (var line = 0; line < actual.Length; line++)
                    Assert.True(Matches(step.Output[line], actual[line]), context);
            }
        }
        finally
        {
            server.Stop();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>An expected line with <c>…</c> for any text, against a printed line.</summary>
    private static bool Matches(string expected, string actual) =>
        Regex.IsMatch(actual, "^" + string.Join(".*", expected.Split('…').Select(Regex.Escape)) + "$", RegexOptions.Singleline);

    private static void AssertLinesInOrder(IReadOnlyList<string> expected, string output, string what)
    {
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var at = 0;
        foreach (var line in expected)
        {
            while (at < lines.Count && !Matches(line, lines[at]))
                at++;
            Assert.True(at < lines.Count, $"{what}: the README shows\n  {line}\nbut it printed (in this order)\n{output}");
            at++;
        }
    }

    /// <summary>Every step in one bash session (variables such as B and T carry over), each followed by a marker line.</summary>
    private static async Task<(IReadOnlyList<string> Segments, string Stderr)> RunSessionAsync(
        IReadOnlyList<ConsoleStep> steps, string folder, string address)
    {
        var script = new StringBuilder("set -u\n");
        foreach (var step in steps)
            script.Append(step.Command.Replace(ReadmeAddress, address, StringComparison.Ordinal)).Append('\n')
                .Append($"printf '\\n{StepMarker}\\n'\n");
        var start = new ProcessStartInfo("bash", ["-c", script.ToString()])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var bash = Process.Start(start)!;
        var stdout = bash.StandardOutput.ReadToEndAsync();
        var stderr = bash.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await bash.WaitForExitAsync(timeout.Token);
        var parts = (await stdout).Split($"\n{StepMarker}\n");
        Assert.True(parts.Length == steps.Count + 1, $"the walkthrough stopped early:\n{await stdout}\n--- stderr\n{await stderr}");
        // A command's output ends with its own newline (or none); the marker's leading newline is the test's.
        return (parts[..steps.Count].Select(p => p.EndsWith('\n') ? p[..^1] : p).ToList(), await stderr);
    }

    private static RunningScript StartServer(string command, string folder, string address)
    {
        Assert.StartsWith("scripts/", command, StringComparison.Ordinal);
        var start = new ProcessStartInfo("bash", ["-c", "exec " + Path.Combine(RepositoryFiles.Root, command)])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["POSTERN_URLS"] = "http://" + address;
        start.Environment.Remove("POSTERN_DB");
        start.Environment.Remove("POSTERN_REDIS");
        return new RunningScript(Process.Start(start)!);
    }

    private static async Task WaitUntilAnsweringAsync(RunningScript server, string address)
    {
        using var client = RawHttp.CreateClient(new Uri("http://" + address));
        client.Timeout = TimeSpan.FromSeconds(2);
        // run-backend.sh builds first: up to date in a test run, but give a cold build its minutes.
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            Assert.False(server.Process.HasExited, $"run-backend.sh exited:\n{server.Stdout}\n{server.Stderr}");
            try
            {
                using var response = await client.GetAsync("/healthz");
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>A script's process with its output collected as it comes.</summary>
    private sealed class RunningScript : IDisposable
    {
        public RunningScript(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Append(Stdout, e.Data);
            process.ErrorDataReceived += (_, e) => Append(Stderr, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }
        public StringBuilder Stdout { get; } = new();
        public StringBuilder Stderr { get; } = new();

        private static void Append(StringBuilder text, string? line)
        {
            if (line is null)
                return;
            lock (text)
                text.AppendLine(line);
        }

        /// <summary>SIGTERM, as a supervisor would; run-backend.sh execs the server, so the PID is the server's.</summary>
        public void Stop()
        {
            if (Process.HasExited)
                return;
            using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                kill.WaitForExit();
            if (!Process.WaitForExit(TimeSpan.FromSeconds(30)))
                Process.Kill();
        }

        public void Dispose() => Process.Dispose();
    }

    public sealed record ConsoleStep(string Command, IReadOnlyList<string> Output);

    /// <summary>
    /// The part of the README between <c>&lt;!-- walkthrough:begin --&gt;</c> and <c>&lt;!-- walkthrough:end --&gt;</c>: a
    /// <c>sh</c> block with the server's command, a <c>text</c> block with what its first start prints, and a
    /// <c>console</c> block of <c>$ </c> commands, each followed by what it prints.
    /// </summary>
    public sealed record Walkthrough(string ServerCommand, IReadOnlyList<string> ServerOutput, IReadOnlyList<ConsoleStep> Steps)
    {
        public static Walkthrough Parse(string readme)
        {
            var begin = readme.IndexOf("<!-- walkthrough:begin -->", StringComparison.Ordinal);
            var end = readme.IndexOf("<!-- walkthrough:end -->", StringComparison.Ordinal);
            Assert.True(begin >= 0 && end > begin, "README.md has no walkthrough markers");
            var blocks = FencedBlock().Matches(readme[begin..end])
                .ToDictionary(m => m.Groups["lang"].Value, m => m.Groups["body"].Value.Split('\n').ToList());
            var server = Assert.Single(blocks["sh"]);
            var steps = new List<(string Command, List<string> Output)>();
            foreach (var line in blocks["console"])
            {
                if (line.StartsWith("$ ", StringComparison.Ordinal))
                    steps.Add((line[2..], []));
                else
                    steps[^1].Output.Add(line);
            }
            return new Walkthrough(server, blocks["text"], steps.Select(s => new ConsoleStep(s.Command, s.Output)).ToList());
        }
    }

    [GeneratedRegex(@"^```(?<lang>\w+)\n(?<body>.*?)\n```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();
}
