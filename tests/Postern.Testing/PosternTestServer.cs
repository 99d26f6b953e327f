using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Postern.Server.Accounts;
using Postern.Server.Commands;
using Postern.Server.Hosting;
using Postern.Server.Storage;

namespace Postern.Testing;

/// <summary>
/// A real Postern server: Kestrel on a free loopback port, and a fresh database from <see cref="TestStore"/>
/// (a SQLite file in a temporary folder, or with <c>POSTERN_TEST_STORE=postgres</c> a new PostgreSQL database),
/// unless the test names one.
/// Password hashing uses few iterations unless a test asks otherwise, so that logins stay fast; the
/// hash format and Django's counts are tested on their own.
/// </summary>
public sealed class PosternTestServer : IAsyncDisposable
{
    public const int FastIterations = 1000;

    private readonly WebApplication _app;

    private PosternTestServer(WebApplication app, string folder, string databasePath, Uri baseAddress)
    {
        _app = app;
        Folder = folder;
        DatabasePath = databasePath;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public string Folder { get; }
    public string DatabasePath { get; }
    public IServiceProvider Services => _app.Services;
    public AccountService Accounts => Services.GetRequiredService<AccountService>();
    public IUserStore Users => Services.GetRequiredService<IUserStore>();
    public IGroupStore Groups => Services.GetRequiredService<IGroupStore>();
    public ISessionStore Sessions => Services.GetRequiredService<ISessionStore>();

    /// <param name="databasePath">
    /// An existing database to share with another server (a second instance), as a SQLite path or a
    /// <c>postgres://</c> URL; by default a new one from <see cref="TestStore.NewDatabaseAsync"/>.
    /// </param>
    /// <param name="services">Services added after Postern's own (a test's own API resource and its store).</param>
    public static async Task<PosternTestServer> StartAsync(IDictionary<string, string?>? settings = null, string? folder = null,
        string? databasePath = null, Action<IServiceCollection>? services = null)
    {
        folder ??= Directory.CreateTempSubdirectory("postern-test-").FullName;
        var overrides = new Dictionary<string, string?>
        {
            ["Postern:Accounts:PasswordIterations"] = FastIterations.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Off unless a test is about it: the suites send many wrong passwords from one address on purpose, and the
            // Django reference backend they are compared with does not throttle (ThrottlingTests turn it on).
            ["Postern:Throttling:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            overrides[key] = value;
        databasePath ??= await TestStore.NewDatabaseAsync(folder);
        var app = await PosternApplication.BuildAsync(
            new HostSettings("http://127.0.0.1:0", databasePath) { Overrides = overrides, ConfigureServices = services });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new PosternTestServer(app, folder, databasePath, new Uri(address));
    }

    /// <summary>
    /// Runs SQL on the server's database over a connection of its own, as another tool or instance would: nothing in
    /// this server hears of it. The schemas of both stores have the same tables and columns.
    /// </summary>
    public Task<int> ExecuteSqlAsync(string sql, params (string Name, object? Value)[] parameters) =>
        TestStore.ExecuteAsync(DatabasePath, sql, parameters);

    /// <summary>A client that neither stores cookies nor follows redirects: tests see the wire as it is.</summary>
    public HttpClient CreateRawClient() => RawHttp.CreateClient(BaseAddress);

    /// <summary>
    /// A user for a test's scenario, with the password validators skipped: tests choose passwords for what they test
    /// (logins, sessions, caches), and the validators have tests of their own (PasswordValidatorTests).
    /// </summary>
    public async Task<User> CreateUserAsync(string username, string? password, bool staff = false, string email = "") =>
        await Accounts.CreateUserAsync(username, password, email, staff, bypassPasswordValidation: true);

    /// <summary>
    /// The Django reference backend's users and groups (tests/django-backend: manage.py seed_users), created by the
    /// server's own <c>--demo-data</c> code, so that the same scenarios mean the same on both.
    /// </summary>
    public Task SeedLikeDjangoPeerAsync(int extraUsers = 25) => DemoData.CreateMissingAsync(Services, output: null, extraUsers);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
