using System.Diagnostics;
using Postern.Bench.Seed;
using Postern.Client;

namespace Postern.Bench.Servers;

/// <summary>
/// The Release build of Postern.Server, started as an operator would (<c>createuser</c>, then <c>serve</c>)
/// with production settings (1,000,000 PBKDF2 iterations) on a fresh SQLite file, and filled through its
/// API as the staff user with the Django peer's users and groups, so ids and pages match the peer's.
/// </summary>
public static class PosternServer
{
    public const string Name = "Postern";

    /// <param name="cpus">When given, the server runs on these cores only (<c>taskset -c</c>'s list).</param>
    public static async Task<ServerProcess> StartAsync(string folder, string? cpus = null)
    {
        var database = Path.Combine(folder, "postern.sqlite3");
        await CreateUsersAsync(database);
        var port = ServerProcess.FreePort();
        var start = Start(port, ["--db", database]);
        var server = await ServerProcess.StartAsync(Name, cpus is null ? start : ServerProcess.PinnedTo(cpus, start), port);
        try
        {
            await SeedThroughApiAsync(server.BaseAddress);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The users with passwords, first and in the peer's order (ids 1 and 2), with <c>createuser</c> (which hashes as the
    /// server will) on <paramref name="database"/>; <paramref name="arguments"/> follow (e.g. <c>--redis</c>).
    /// </summary>
    public static async Task CreateUsersAsync(string database, params string[] arguments)
    {
        var dll = BuildOutput.PosternServer();
        foreach (var user in SeedData.Users.Where(u => u.Password is not null))
        {
            var createUser = new List<string> { "createuser", user.Username, "--email", user.Email, "--password-stdin", "--db", database };
            if (user.IsStaff)
                createUser.Add("--staff");
            await RunCommandAsync(dll, [.. createUser, .. arguments], user.Password!);
        }
    }

    /// <summary>
    /// How an instance is started: <c>serve ARGUMENTS... --urls http://127.0.0.1:PORT</c>, production settings, and
    /// <paramref name="environment"/> (Postern's settings, e.g. <c>Postern__Proxy__TrustedProxyCount</c>).
    /// </summary>
    public static ProcessStartInfo Start(int port, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = ServerProcess.Dotnet(BuildOutput.PosternServer(), port, ["serve", .. arguments]);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return start;
    }

    /// <summary>The peer's groups, memberships and users without passwords, through the API as the staff user.</summary>
    public static async Task SeedThroughApiAsync(Uri baseAddress)
    {
        using var staff = new PosternSession(baseAddress, new PosternClientOptions { LoginMode = LoginMode.Seed });
        await staff.LoginAsync(SeedData.StaffUsername, SeedData.StaffPassword);
        foreach (var group in SeedData.Groups)
            Expect((await staff.PostAsync<GroupResource>("/api/groups/", new { name = group.Name })).Url, $"/api/groups/{group.Id}/");
        string[] GroupLinks(SeedUser user) => user.GroupIds.Select(id => staff.Resolve($"/api/groups/{id}/").ToString()).ToArray();
        foreach (var user in SeedData.Users)
        {
            var resource = user.Password is null
                ? await staff.PostAsync<UserResource>("/api/users/",
                    new { username = user.Username, email = user.Email, groups = GroupLinks(user) })
                : await staff.PatchAsync<UserResource>($"/api/users/{user.Id}/", new { groups = GroupLinks(user) });
            Expect(resource.Url, $"/api/users/{user.Id}/");
        }
        await staff.LogoutAsync();
    }

    private static void Expect(string url, string path)
    {
        if (!url.EndsWith(path, StringComparison.Ordinal))
            throw new InvalidOperationException($"Seeding Postern: expected {path}, got {url}.");
    }

    private static async Task RunCommandAsync(string dll, IEnumerable<string> arguments, string standardInput)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start Postern.Server.");
        await process.StandardInput.WriteLineAsync(standardInput);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"Postern.Server {string.Join(' ', start.ArgumentList.Skip(1))} exited {process.ExitCode}: {await output}{await errors}");
    }
}
