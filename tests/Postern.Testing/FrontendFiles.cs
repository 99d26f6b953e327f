namespace Postern.Testing;

/// <summary>
/// The seed's frontend as built (deploy/frontend: <c>npm ci &amp;&amp; npm run build</c> makes dist/; scripts/test.sh builds it
/// before the .NET tests), or the folder <c>POSTERN_FRONTEND_DIST</c> names.
/// </summary>
public static class FrontendFiles
{
    public const string FolderVariable = "POSTERN_FRONTEND_DIST";

    /// <summary>The built folder, with its index.html and app.js; throws, saying how to build it, when it is not there.</summary>
    public static string BuiltFolder
    {
        get
        {
            var folder = Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } named
                ? Path.GetFullPath(named)
                : Path.Combine(RepositoryFiles.Root, "deploy", "frontend", "dist");
            foreach (var file in new[] { "index.html", "app.js", "style.css" })
            {
                if (!File.Exists(Path.Combine(folder, file)))
                    throw new InvalidOperationException(
                        $"The frontend is not built: {Path.Combine(folder, file)} is missing. Build it with "
                        + "(cd clients/js && npm ci && npm run build) && (cd deploy/frontend && npm ci && npm run build), "
                        + $"as scripts/test.sh does, or name a built folder in {FolderVariable}.");
            }
            return folder;
        }
    }
}
