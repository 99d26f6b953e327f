using System.Text.RegularExpressions;

namespace Postern.Cli;

/// <summary>Which saved session a command asked for: a name, a file, or (neither) the one of the URL's host.</summary>
public sealed record SessionChoice(string? Name, string? File);

/// <summary>
/// Where sessions live: <c>$XDG_CONFIG_HOME/postern/sessions/</c> (else <c>~/.config/postern/sessions/</c>),
/// one file per host (<c>127.0.0.1_8000.json</c>) unless named (<c>--session NAME</c> → <c>NAME.json</c>)
/// or given (<c>--session-file PATH</c>). <c>current</c> remembers the session of the last login, which
/// relative paths use.
/// </summary>
public sealed partial class SessionStore(string configFolder)
{
    public string ConfigFolder { get; } = configFolder;
    public string SessionsFolder => Path.Combine(ConfigFolder, "sessions");
    private string CurrentPointer => Path.Combine(ConfigFolder, "current");

    public static SessionStore FromEnvironment(Func<string, string?> environment)
    {
        var xdg = environment("XDG_CONFIG_HOME");
        var root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : OperatingSystem.IsWindows()
                ? Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData)
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return new SessionStore(Path.Combine(root, "postern"));
    }

    /// <summary>Creates the sessions folder, for its owner alone: the files in it are credentials.</summary>
    public void CreateSessionsFolder()
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(SessionsFolder);
        else
            Directory.CreateDirectory(SessionsFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The default session file of a backend's host and port.</summary>
    public string ForHost(Uri address) =>
        Path.Combine(SessionsFolder, $"{UnsafeFileNameCharacters().Replace(address.IdnHost, "_")}_{address.Port}.json");

    public string Named(string name) =>
        SessionName().IsMatch(name)
            ? Path.Combine(SessionsFolder, name + ".json")
            : throw new UsageException(
                $"--session {name}: a session name is letters, digits, '.', '_' and '-' (use --session-file for a path)");

    /// <summary>The file an explicit choice names, or null when the command should pick by host.</summary>
    public string? Chosen(SessionChoice choice) => choice switch
    {
        { Name: not null, File: not null } => throw new UsageException("give --session or --session-file, not both"),
        { Name: { } name } => Named(name),
        { File: { } file } => Path.GetFullPath(file),
        _ => null,
    };

    /// <summary>The session file of the last login, if it still exists.</summary>
    public string? Current()
    {
        if (!File.Exists(CurrentPointer))
            return null;
        var path = File.ReadAllText(CurrentPointer).Trim();
        return path.Length > 0 && File.Exists(path) ? path : null;
    }

    public void MakeCurrent(string sessionFile)
    {
        Directory.CreateDirectory(ConfigFolder);
        File.WriteAllText(CurrentPointer, Path.GetFullPath(sessionFile) + "\n");
    }

    /// <summary>Removes a session file, and the pointer to it when it was the current one.</summary>
    public void Remove(string sessionFile)
    {
        File.Delete(sessionFile);
        if (File.Exists(CurrentPointer) && File.ReadAllText(CurrentPointer).Trim() == Path.GetFullPath(sessionFile))
            File.Delete(CurrentPointer);
    }

    [GeneratedRegex("[^A-Za-z0-9.-]")]
    private static partial Regex UnsafeFileNameCharacters();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex SessionName();
}
