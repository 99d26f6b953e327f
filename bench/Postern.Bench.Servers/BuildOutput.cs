using System.Reflection;

namespace Postern.Bench.Servers;

/// <summary>Where the repository and the built servers are: beside this assembly's own build, in the same configuration.</summary>
public static class BuildOutput
{
    private const string TargetFramework = "net10.0";

    /// <summary>The configuration this assembly was built in (Release for the benchmark).</summary>
    public static string Configuration { get; } =
        typeof(BuildOutput).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "Configuration")?.Value ?? "Release";

    /// <summary>The folder holding Postern.slnx, above this assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Postern.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"Cannot find Postern.slnx above {AppContext.BaseDirectory}.");
    }

    /// <summary>The built <c>NAME.dll</c> of the project in <paramref name="projectFolder"/> (relative to the repository).</summary>
    public static string Assembly(string projectFolder, string name)
    {
        var path = Path.Combine(RepositoryRoot(), projectFolder, "bin", Configuration, TargetFramework, name + ".dll");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is not built: run dotnet build -c {Configuration} first (bench/run.sh does).", path);
        return path;
    }

    public static string PosternServer() => Assembly(Path.Combine("src", "Postern.Server"), "Postern.Server");

    /// <summary>The Django reference backend's folder (tests/django-backend, with its run.sh).</summary>
    public static string DjangoReferenceBackend()
    {
        var folder = Path.Combine(RepositoryRoot(), "tests", "django-backend");
        if (!File.Exists(Path.Combine(folder, "run.sh")))
            throw new InvalidOperationException($"Cannot find the Django reference backend's run.sh in {folder}.");
        return folder;
    }
}
