using System.Globalization;

namespace Postern.Bench.Servers;

/// <summary>
/// Resident memory from /proc, summed over a process and its descendants (gunicorn's master and
/// workers count as one server). Shared pages of forked workers are counted in each, as ps does.
/// </summary>
public static class ProcessMemory
{
    /// <summary>Current resident set (VmRSS), in bytes.</summary>
    public static long Resident(int pid) => Sum(pid, "VmRSS:");

    /// <summary>The high-water mark of the resident set (VmHWM) since start or the last <see cref="ResetPeak"/>, in bytes.</summary>
    public static long Peak(int pid) => Sum(pid, "VmHWM:");

    /// <summary>
    /// Starts the high-water marks again from the current resident sets (writing 5 to clear_refs); false if the kernel
    /// refused.
    /// </summary>
    public static bool ResetPeak(int pid)
    {
        var all = true;
        foreach (var member in Tree(pid))
        {
            try
            {
                File.WriteAllText($"/proc/{member}/clear_refs", "5");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                all = false;
            }
        }
        return all;
    }

    /// <summary><paramref name="root"/> and every process below it.</summary>
    public static IReadOnlyList<int> Tree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            if (ParentOf(pid) is { } parent)
            {
                if (!children.TryGetValue(parent, out var list))
                    children[parent] = list = [];
                list.Add(pid);
            }
        }
        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            if (children.TryGetValue(tree[i], out var below))
                tree.AddRange(below);
        }
        return tree;
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ppid ...", and comm may hold spaces or parentheses.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return null; // gone meanwhile
        }
    }

    private static long Sum(int root, string field)
    {
        long total = 0;
        foreach (var pid in Tree(root))
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                {
                    if (!line.StartsWith(field, StringComparison.Ordinal))
                        continue;
                    var kilobytes = line[field.Length..].Trim().Split(' ')[0];
                    total += long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
                    break;
                }
            }
            catch (IOException)
            {
            }
        }
        return total;
    }
}
