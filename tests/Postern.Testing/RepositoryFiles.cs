namespace Postern.Testing;

/// <summary>Files of this checkout (deploy/, scripts/), found from the test binaries by walking up to Postern.slnx.</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>The full path of <paramref name="relativePath"/> (forward slashes) in the checkout; throws if it is missing.</summary>
    public static string Find(string relativePath)
    {
        var path = Path.Combine(Root, relativePath);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{relativePath} is not in the checkout at {Root}.", path);
    }

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Postern.slnx")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"No Postern.slnx above {AppContext.BaseDirectory}: the tests run from a checkout.");
    }
}
