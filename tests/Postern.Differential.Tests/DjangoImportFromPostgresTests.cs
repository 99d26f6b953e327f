using Postern.Testing;

namespace Postern.Differential.Tests;

/// <summary>
/// Both Django reference backends on PostgreSQL, as most Django projects run: a private cluster (Debian's binaries, its own
/// folder and port), a database for each release that Django's own migrate made (Debian's python3-psycopg2), and one more
/// database in the same cluster for each Postern the tests import into.
/// </summary>
public sealed class DjangoPostgresDatabases : IAsyncLifetime
{
    private readonly Dictionary<PeerKind, (DjangoPeer Peer, string Database)> _peers = [];
    private PostgresServer? _cluster;

    public PostgresServer Cluster => _cluster ?? throw new InvalidOperationException("Not started.");

    public DjangoPeer this[PeerKind kind] => _peers[kind].Peer;

    public string DatabaseOf(PeerKind kind) => _peers[kind].Database;

    public async Task InitializeAsync()
    {
        _cluster = await PostgresServer.StartAsync();
        var starting = new[] { PeerKind.Modern, PeerKind.Legacy }.Select(async kind =>
        {
            var database = await _cluster.CreateDatabaseAsync();
            return (kind, await DjangoPeer.StartAsync(kind, database: database), database);
        }).ToList();
        foreach (var (kind, peer, database) in await Task.WhenAll(starting))
            _peers[kind] = (peer, database);
    }

    public async Task DisposeAsync()
    {
        foreach (var (peer, _) in _peers.Values)
            await peer.DisposeAsync();
        if (_cluster is not null)
            await _cluster.DisposeAsync();
    }
}

/// <summary>
/// <c>import-django --from postgres://...</c>: the same story as from SQLite (<see cref="DjangoImportTests"/>), from the
/// databases Django 5.2 and 3.2 keep on PostgreSQL (timestamptz, boolean, their own sequences), into a Postern on
/// PostgreSQL in the same cluster, as a team moving over would run it.
/// </summary>
public sealed class DjangoImportFromPostgresTests(DjangoPostgresDatabases django) : IClassFixture<DjangoPostgresDatabases>
{
    [Theory]
    [MemberData(nameof(DjangoImportTests.Kinds), MemberType = typeof(DjangoImportTests))]
    public async Task UsersGroupsAndLiveSessionsCarryOverFromPostgresAndASecondRunDuplicatesNothing(PeerKind kind) =>
        await DjangoImportTests.CarryOverTwiceAsync(django[kind], django.DatabaseOf(kind), await django.Cluster.CreateDatabaseAsync());
}
