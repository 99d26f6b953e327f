using Postern.Testing;

namespace Postern.Client.Tests;

/// <summary>The three backends every client test runs against: Postern, Django 5.2 and Django 3.2, all seeded alike.</summary>
public sealed class Backends : IAsyncLifetime
{
    public PosternTestServer Postern { get; private set; } = null!;
    public DjangoPeer Modern { get; private set; } = null!;
    public DjangoPeer Legacy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var modern = DjangoPeer.StartAsync(PeerKind.Modern);
        var legacy = DjangoPeer.StartAsync(PeerKind.Legacy);
        Postern = await PosternTestServer.StartAsync();
        await Postern.SeedLikeDjangoPeerAsync();
        Modern = await modern;
        Legacy = await legacy;
    }

    public Uri this[string name] => name switch
    {
        "postern" => Postern.BaseAddress,
        "django52" => Modern.BaseAddress,
        "django32" => Legacy.BaseAddress,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    public async Task DisposeAsync()
    {
        await Postern.DisposeAsync();
        await Modern.DisposeAsync();
        await Legacy.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BackendsGroup : ICollectionFixture<Backends>
{
    public const string Name = "backends";
}
