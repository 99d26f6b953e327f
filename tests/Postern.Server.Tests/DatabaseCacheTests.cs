using Microsoft.Extensions.Logging.Abstractions;
using Postern.Server.Storage;
using Postern.Server.Storage.Caching;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>A Redis for the change counter when the tests run on PostgreSQL; SQLite needs none.</summary>
public sealed class ChangeCounterFixture : IAsyncLifetime
{
    public RedisServer? Redis { get; private set; }

    public async Task InitializeAsync()
    {
        if (TestStore.UsesPostgres)
            Redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (Redis is not null)
            await Redis.DisposeAsync();
    }
}

/// <summary>
/// The read cache as <see cref="Database"/> applies it, with the change signal a server would use on the store
/// <see cref="TestStore"/> gives (SQLite's data_version, or a Redis counter beside PostgreSQL): which reads are loaded
/// and which are served from memory, and what moves the token.
/// </summary>
public sealed class DatabaseCacheTests(ChangeCounterFixture counter) : IClassFixture<ChangeCounterFixture>, IAsyncLifetime
{
    private static readonly CachedQuery GroupCount = new("group count, as these tests count it");

    private readonly string _folder = Directory.CreateTempSubdirectory("postern-db-cache-").FullName;
    private readonly List<IAsyncDisposable> _opened = [];
    private string _path = "";
    private int _loads;

    public async Task InitializeAsync()
    {
        _path = await TestStore.NewDatabaseAsync(_folder);
        await using var database = Database.Open(_path);
        await database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var opened in _opened)
            await opened.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class SignalOwner(IDisposable signal) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            signal.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The database as a server on this store opens it, with a cache of <paramref name="maxEntries"/>.</summary>
    private (Database Database, ReadCache Cache) OpenCached(int maxEntries = 100)
    {
        var redis = counter.Redis is { } server ? new RedisConnection(server.Configuration) : null;
        IStoreChangeSignal signal = redis is not null ? new RedisChangeCounter(redis) : new SqliteDataVersion(_path);
        var cache = new ReadCache(signal, TimeProvider.System, maxEntries, TimeSpan.FromSeconds(30));
        var database = new Database(SqlDialect.Open(_path), cache, NullLogger.Instance);
        _opened.Add(database);
        _opened.Add(new SignalOwner(redis ?? (IDisposable)signal));
        return (database, cache);
    }

    private Database OpenUncached()
    {
        var database = Database.Open(_path);
        _opened.Add(database);
        return database;
    }

    private Task<long> CountGroupsAsync(Database database, Func<long, bool>? keepIf = null) =>
        database.ReadCachedAsync(new ReadKey(GroupCount), db =>
        {
            Interlocked.Increment(ref _loads);
            return db.Command("SELECT COUNT(*) FROM groups;").ReadInt64Async();
        }, CancellationToken.None, keepIf);

    private static Task<int> AddGroupAsync(Database database, string name) =>
        database.WriteAsync(db => db.Command("INSERT INTO groups (name) VALUES (@name);").With("@name", name).ExecuteAsync(),
            CancellationToken.None);

    [Fact]
    public async Task WithoutACacheEveryReadGoesToTheDatabase()
    {
        var database = OpenUncached();
        await CountGroupsAsync(database);
        await CountGroupsAsync(database);
        Assert.Equal(2, _loads);
    }

    [Fact]
    public async Task ACachedReadIsLoadedOnceUntilAWriteIsAnnounced()
    {
        var (database, cache) = OpenCached();
        Assert.Equal(0, await CountGroupsAsync(database));
        Assert.Equal(0, await CountGroupsAsync(database));
        Assert.Equal(1, _loads);
        Assert.Equal(1, cache.Count);

        // Another argument is another read; a plain read is never kept.
        await database.ReadCachedAsync(new ReadKey(GroupCount, Number: 1), _ => Task.FromResult(Interlocked.Increment(ref _loads)),
            CancellationToken.None);
        await database.ReadAsync(db => db.Command("SELECT COUNT(*) FROM groups;").ReadInt64Async(), CancellationToken.None);
        Assert.Equal(2, cache.Count);

        await AddGroupAsync(database, "announced");
        Assert.Equal(0, cache.Count);
        Assert.Equal(1, await CountGroupsAsync(database));
        Assert.Equal(3, _loads);
    }

    [Fact]
    public async Task AReadTheCallerDoesNotWantKeptIsLoadedEveryTime()
    {
        var (database, cache) = OpenCached();
        await CountGroupsAsync(database, keepIf: count => count > 0);
        await CountGroupsAsync(database, keepIf: count => count > 0);
        Assert.Equal(2, _loads);
        Assert.Equal(0, cache.Count);
    }

    /// <summary>
    /// Not announcing is the caller's promise that no cached read depends on the write: through Redis nothing moves the
    /// token, and the old count is served; on SQLite any commit moves data_version all the same.
    /// </summary>
    [Fact]
    public async Task AnUnannouncedWriteMovesNoTokenButSqlitesOwn()
    {
        var (database, _) = OpenCached();
        Assert.Equal(0, await CountGroupsAsync(database));
        await database.WriteWithoutAnnouncingAsync(db => db.Command("INSERT INTO groups (name) VALUES ('unannounced');").ExecuteAsync(),
            CancellationToken.None);
        Assert.Equal(TestStore.UsesPostgres ? 0 : 1, await CountGroupsAsync(database));
    }

    [Fact]
    public async Task TheReadsOfOneRequestScopeShareTheTokenOfTheFirst()
    {
        var (database, cache) = OpenCached();
        Assert.Equal(0, await CountGroupsAsync(database));
        using (ReadCache.BeginRequestScope())
        {
            Assert.Equal(0, await CountGroupsAsync(database));
            // Another instance or tool writes (and, through Redis, announces it) while the request runs.
            await TestStore.ExecuteAsync(_path, "INSERT INTO groups (name) VALUES ('written-elsewhere');");
            await cache.Signal.AnnounceAsync(CancellationToken.None);
            Assert.Equal(0, await CountGroupsAsync(database));
        }
        Assert.Equal(1, _loads);
        Assert.Equal(1, await CountGroupsAsync(database));
        Assert.Equal(2, _loads);
    }

    [Fact]
    public async Task ACacheThatKeepsNothingStillAnnouncesWrites()
    {
        var (database, cache) = OpenCached(maxEntries: 0);
        await CountGroupsAsync(database);
        await CountGroupsAsync(database);
        Assert.Equal(2, _loads);

        var before = await cache.Signal.CurrentAsync(CancellationToken.None);
        await AddGroupAsync(database, "told-to-the-others");
        Assert.NotEqual(before, await cache.Signal.CurrentAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ATableStoreOverACachedDatabaseSeesItsOwnWritesAtOnce()
    {
        var (database, cache) = OpenCached();
        var groups = new TableStore<Group>(database, GroupStore.Groups);
        var group = await groups.CreateAsync(new Group(0, "before"));
        Assert.Equal(group, await groups.FindAsync(group.Id));
        Assert.Equal(1, await groups.CountAsync());
        Assert.Equal(2, cache.Count);

        await groups.UpdateAsync(group.Id, group with { Name = "after" });
        Assert.Equal("after", (await groups.FindAsync(group.Id))?.Name);
        await groups.CreateAsync(new Group(0, "another"));
        Assert.Equal(2, await groups.CountAsync());
        Assert.True(await groups.DeleteAsync(group.Id));
        Assert.Null(await groups.FindAsync(group.Id));
    }
}
