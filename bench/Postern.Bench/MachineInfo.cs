using System.Runtime.InteropServices;

namespace Postern.Bench;

/// <summary>The machine the numbers come from.</summary>
public sealed record MachineInfo(int Cores, string CpuModel, string Kernel, string Runtime, string WrkVersion)
{
    public static async Task<MachineInfo> ReadAsync() => new(
        Environment.ProcessorCount,
        ReadProc("/proc/cpuinfo", l => l.StartsWith("model name", StringComparison.Ordinal)
            ? l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()
            : null) ?? "unknown CPU",
        "Linux " + (ReadProc("/proc/sys/kernel/osrelease", l => l.Trim()) ?? RuntimeInformation.OSDescription),
        RuntimeInformation.FrameworkDescription,
        await Wrk.VersionAsync());

    /// <summary>The 1-minute load average: how busy the shared machine was.</summary>
    public static string LoadAverage() => ReadProc("/proc/loadavg", l => string.Join(' ', l.Split(' ').Take(3))) ?? "unknown";

    private static string? ReadProc(string path, Func<string, string?> pick)
    {
        try
        {
            return File.ReadLines(path).Select(pick).FirstOrDefault(v => v is not null);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
