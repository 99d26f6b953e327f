using Postern.Testing;

namespace Postern.Cli.Tests;

/// <summary>
/// One backend the CLI is run against, started once per test collection. Each backend has its own
/// collection, so the three run side by side.
/// </summary>
public abstract class Backend : IAsyncLifetime
{
    /// <summary>Where the shared logins live; removed in <see cref="DisposeAsync"/>.</summary>
    private CliHome SignedIn { get; } = new();
    private readonly Dictionary<string, Task<string>> _sessions = [];

    public abstract Uri BaseAddress { get; }

    public abstract Task InitializeAsync();

    protected abstract ValueTask StopAsync();

    /// <summary>
    /// A session file of <paramref name="username"/>, logged into once per run with the real CLI (Django's
    /// password hashing is slow) for tests that only need someone signed in and leave the session alone.
    /// </summary>
    public Task<string> SessionFileAsync(string username)
    {
        lock (_sessions)
        {
            if (!_sessions.TryGetValue(username, out var file))
                _sessions[username] = file = LogInAsync(username);
            return file;
        }
    }

    private async Task<string> LogInAsync(string username)
    {
        var login = await SignedIn.LoginAsync(BaseAddress, username, "--session", username);
        Assert.True(login.ExitCode == 0, login.ToString());
        return Path.Combine(SignedIn.SessionsFolder, username + ".json");
    }

    public async Task DisposeAsync()
    {
        SignedIn.Dispose();
        await StopAsync();
    }
}

/// <summary>Postern itself, seeded like the Django peers (alice staff, bob, 25 more; groups staff and readers).</summary>
public sealed class PosternBackend : Backend
{
    public PosternTestServer Server { get; private set; } = null!;
    public override Uri BaseAddress => Server.BaseAddress;

    public override async Task InitializeAsync()
    {
        Server = await PosternTestServer.StartAsync();
        await Server.SeedLikeDjangoPeerAsync();
    }

    protected override ValueTask StopAsync() => Server.DisposeAsync();
}

public abstract class DjangoBackend(PeerKind kind) : Backend
{
    private DjangoPeer _peer = null!;
    public override Uri BaseAddress => _peer.BaseAddress;

    public override async Task InitializeAsync() => _peer = await DjangoPeer.StartAsync(kind);

    protected override ValueTask StopAsync() => _peer.DisposeAsync();
}

/// <summary>Django 5.2 + DRF.</summary>
public sealed class ModernDjangoBackend() : DjangoBackend(PeerKind.Modern);

/// <summary>Debian 12's Django 3.2 + DRF.</summary>
public sealed class LegacyDjangoBackend() : DjangoBackend(PeerKind.Legacy);

[CollectionDefinition(Name)]
public sealed class PosternGroup : ICollectionFixture<PosternBackend>
{
    public const string Name = "postern";
}

[CollectionDefinition(Name)]
public sealed class ModernDjangoGroup : ICollectionFixture<ModernDjangoBackend>
{
    public const string Name = "django52";
}

[CollectionDefinition(Name)]
public sealed class LegacyDjangoGroup : ICollectionFixture<LegacyDjangoBackend>
{
    public const string Name = "django32";
}
