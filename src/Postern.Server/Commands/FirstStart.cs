using Postern.Server.Accounts;
using Postern.Server.Hosting;
using Postern.Server.Storage;
using Postern.Server.Storage.Postgres;

namespace Postern.Server.Commands;

/// <summary>On the very first start, an <c>admin</c> account, so the backend is usable at once.</summary>
public static class FirstStart
{
    public const string AdminUsername = "admin";

    public static async Task CreateAdminIfNoUsersAsync(
        IServiceProvider services, TextWriter output, string changePasswordCommand, CancellationToken ct)
    {
        // Beside Django, its users are the Django project's to make (manage.py createsuperuser, or createuser here).
        if (services.GetRequiredService<Database>().Schema == Storage.Schema.StorageSchema.Django
            || await services.GetRequiredService<IUserStore>().CountUsersAsync(ct) > 0)
            return;
        var password = Protocol.CsrfToken.NewSecret()[..20];
        try
        {
            // Twenty random letters and digits pass any sensible rule; the operator's rules (say, a minimum length of 24)
            // are for passwords people choose, and must not stop the first start: the operator changes this one anyway.
            await services.GetRequiredService<AccountService>()
                .CreateUserAsync(AdminUsername, password, isStaff: true, isSuperuser: true, bypassPasswordValidation: true, ct: ct);
        }
        catch (DuplicateUsernameException)
        {
            return; // another instance got there first
        }
        await output.WriteLineAsync($"Created the first user '{AdminUsername}' with password: {password}");
        await output.WriteLineAsync($"It is shown only this once; change it with: {changePasswordCommand}");
    }
}

/// <summary>
/// The users and groups the README's walkthrough uses (<c>serve --demo-data</c>), the same as the Django reference
/// backend's <c>seed_users</c>: alice (staff; groups staff and readers) and bob (readers), passwords
/// <c>NAME-password</c>, and optionally password-less extras <c>user000</c>… Creates only what is missing.
/// </summary>
public static class DemoData
{
    public static async Task CreateMissingAsync(
        IServiceProvider services, TextWriter? output, int extraUsers = 0, CancellationToken ct = default)
    {
        var accounts = services.GetRequiredService<AccountService>();
        var users = services.GetRequiredService<IUserStore>();
        var staff = await accounts.EnsureGroupAsync("staff", ct);
        var readers = await accounts.EnsureGroupAsync("readers", ct);
        var created = new List<string>();
        foreach (var (name, isStaff, groups) in new[] { ("alice", true, new[] { staff.Id, readers.Id }), ("bob", false, [readers.Id]) })
        {
            if (await users.FindUserByUsernameAsync(name, ct) is not null)
                continue;
            // The walkthrough's documented passwords (which pass Django's default validators), whatever rules the operator
            // configured: demo data is for trying Postern out, and the README and tests log in with these.
            await accounts.CreateUserAsync(name, $"{name}-password", $"{name}@example.org", isStaff, groupIds: groups,
                bypassPasswordValidation: true, ct: ct);
            created.Add($"{name} (password {name}-password{(isStaff ? ", staff" : "")})");
        }
        for (var i = 0; i < extraUsers; i++)
        {
            var name = $"user{i:000}";
            if (await users.FindUserByUsernameAsync(name, ct) is null)
                await accounts.CreateUserAsync(name, null, $"{name}@example.org", ct: ct);
        }
        if (output is not null && created.Count > 0)
            await output.WriteLineAsync($"Demo data: created {string.Join(" and ", created)}. Not for production.");
    }
}

/// <summary>
/// The administration command line to print in a hint, as this process was started (<c>dotnet /path/Postern.Server.dll</c>
/// or the executable itself), with the database and Redis it was given: it works as written from any folder.
/// </summary>
public static class AdminCommandHint
{
    public static string For(HostSettings settings, string database)
    {
        var words = new List<string>();
        var process = Environment.ProcessPath ?? "Postern.Server";
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            words.Add("dotnet");
            words.Add(Quote(Path.GetFullPath(Environment.GetCommandLineArgs()[0])));
        }
        else
        {
            words.Add(Quote(process));
        }
        words.Add("changepassword");
        words.Add(FirstStart.AdminUsername);
        // PostgreSQL URLs hold a password: name the variable it came from when it came from one, rather than print it.
        if (!PostgresDatabaseUrl.IsPostgres(database))
            words.Add("--db " + Quote(Path.GetFullPath(database)));
        else if (Environment.GetEnvironmentVariable(PosternCommandLine.DatabaseVariable) != database)
            words.Add("--db " + Quote(database));
        if (settings.Redis is { } redis && Environment.GetEnvironmentVariable(PosternCommandLine.RedisVariable) != redis)
            words.Add("--redis " + Quote(redis));
        return string.Join(' ', words);
    }

    /// <summary>A word for a POSIX shell: as it is when it is safe, else in single quotes.</summary>
    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "/._-:@+=,".Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
