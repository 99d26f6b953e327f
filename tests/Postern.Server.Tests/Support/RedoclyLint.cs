using System.Diagnostics;
using Postern.Testing;

namespace Postern.Server.Tests.Support;

/// <summary>
/// Redocly CLI, an OpenAPI 3.1 validator from npm, run with Node on a file: tests/openapi-validator holds its package.json,
/// lock file and configuration. The first use in a test run installs it there with <c>npm ci</c> (the exact locked
/// version), so that the test command needs nothing installed beforehand but Node and npm.
/// </summary>
public static class RedoclyLint
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan LintTimeout = TimeSpan.FromMinutes(2);

    private static readonly Lazy<Task> Installed = new(() => RunCheckedAsync("npm", ["ci", "--no-audit", "--no-fund"], InstallTimeout));

    public static string Folder => Path.GetDirectoryName(RepositoryFiles.Find("tests/openapi-validator/package.json"))!;

    /// <summary>Lints <paramref name="documentPath"/> with the folder's redocly.yaml: exit 0 when Redocly finds no problem.</summary>
    public static async Task<CommandResult> LintAsync(string documentPath)
    {
        await Installed.Value;
        var cli = Path.Combine(Folder, "node_modules", "@redocly", "cli", "bin", "cli.js");
        string[] arguments = [cli, "lint", "--config", Path.Combine(Folder, "redocly.yaml"), "--format", "stylish", documentPath];
        return await RunAsync("node", arguments, LintTimeout);
    }

    private static async Task RunCheckedAsync(string program, string[] arguments, TimeSpan timeout)
    {
        var result = await RunAsync(program, arguments, timeout);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} in {Folder} failed: {result}");
    }

    private static async Task<CommandResult> RunAsync(string program, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Redocly would report usage to its makers and look for a newer version: neither belongs in a test.
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timer = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(timer.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} took over {timeout}.");
        }
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }
}
