using System.Diagnostics;

namespace Postern.Testing;

/// <summary>
/// Runs a Python script with one of the reference backend's Django releases importable (5.2 from the cache that
/// tests/django-backend/install.sh fills, or Debian 12's 3.2), to ask Django itself what it computes: tokens,
/// signatures, validator messages. The script configures settings in-process (<c>settings.configure(...)</c>).
/// </summary>
public static class DjangoPython
{
    /// <summary>Runs <paramref name="script"/> with <paramref name="input"/> on stdin; its stdout, or throws with its stderr.</summary>
    public static async Task<string> RunAsync(PeerKind kind, string script, string input = "")
    {
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (kind == PeerKind.Modern)
            start.Environment["PYTHONPATH"] = ModernSitePackages();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start python3.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"python3 (Django {kind}) failed with {process.ExitCode}: {await errors}");
    }

    /// <summary>Where install.sh unpacked Django 5.2 and DRF (POSTERN_DJANGO_CACHE, as run.sh reads it).</summary>
    public static string ModernSitePackages()
    {
        var cache = Environment.GetEnvironmentVariable("POSTERN_DJANGO_CACHE") is { Length: > 0 } configured
            ? configured
            : "/var/cache/postern/django-5.2";
        var marker = Path.Combine(cache, "site-packages.path");
        return File.Exists(marker)
            ? File.ReadAllText(marker).Trim()
            : throw new InvalidOperationException($"Django 5.2 is not installed ({marker} is missing): run tests/django-backend/install.sh as root.");
    }
}
