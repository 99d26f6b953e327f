using System.Data.Common;
using Postern.Server.Storage;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// Many writes at once, as a burst of requests makes them: on SQLite they share transactions (the group commit,
/// Storage/Sqlite/SqliteGroupCommit), on PostgreSQL each has its own. Either way every caller must see exactly what a write
/// committed alone would give it: its rows durable and visible to anyone once it hears back, a failed write undone with
/// nothing else undone, a write's own rolled-back transaction leaving no trace.
/// </summary>
public sealed class ConcurrentWriteTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("postern-concurrent-writes-").FullName;
    private string _path = "";
    private Database _database = null!;

    public async Task InitializeAsync()
    {
        _path = await TestStore.NewDatabaseAsync(_folder);
        _database = Database.Open(_path);
        await _database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static Task<int> InsertGroupAsync(DbConnection db, string name) =>
        db.Command("INSERT INTO groups (name) VALUES (@name);").With("@name", name).ExecuteAsync();

    /// <summary>Asked on a connection of its own, as another instance or tool would ask.</summary>
    private async Task<bool> GroupExistsAsync(string name)
    {
        await using var db = await TestStore.ConnectAsync(_path);
        return await db.Command("SELECT COUNT(*) FROM groups WHERE name = @name;").With("@name", name).ReadInt64Async() == 1;
    }

    [Fact]
    public async Task EveryWriteIsCommittedAndVisibleElsewhereWhenItsCallerHearsBack()
    {
        var writes = Enumerable.Range(0, 40).Select(async i =>
        {
            var name = $"burst-{i}";
            await _database.WriteAsync(db => InsertGroupAsync(db, name), CancellationToken.None);
            // Not "eventually": at the moment the write returned, its row is committed for every other connection.
            Assert.True(await GroupExistsAsync(name), name);
        }).ToList();
        await Task.WhenAll(writes);
        await using var db = await TestStore.ConnectAsync(_path);
        Assert.Equal(40, await db.Command("SELECT COUNT(*) FROM groups WHERE name LIKE 'burst-%';").ReadInt64Async());
    }

    [Fact]
    public async Task AWriteThatFailsIsUndoneAloneAndItsCallerGetsItsError()
    {
        var writes = Enumerable.Range(0, 40).Select(i => _database.WriteAsync(async db =>
        {
            await using var tx = await _database.BeginWriteAsync(db, CancellationToken.None);
            await db.Command("INSERT INTO groups (name) VALUES (@name);", tx).With("@name", $"mixed-{i}").ExecuteAsync();
            if (i % 10 == 3)
                throw new InvalidOperationException($"write {i} changed its mind");
            await tx.CommitAsync();
            return i;
        }, CancellationToken.None)).ToList();

        for (var i = 0; i < writes.Count; i++)
        {
            if (i % 10 == 3)
            {
                var error = await Assert.ThrowsAsync<InvalidOperationException>(() => writes[i]);
                Assert.Equal($"write {i} changed its mind", error.Message);
                Assert.False(await GroupExistsAsync($"mixed-{i}"), $"mixed-{i} was written although its write failed");
            }
            else
            {
                Assert.Equal(i, await writes[i]);
                Assert.True(await GroupExistsAsync($"mixed-{i}"), $"mixed-{i}");
            }
        }
    }

    [Fact]
    public async Task AUniqueViolationFailsOnlyTheWriteThatRanIntoIt()
    {
        await _database.WriteAsync(db => InsertGroupAsync(db, "taken"), CancellationToken.None);
        var writes = Enumerable.Range(0, 20)
            .Select(i => _database.WriteAsync(db => InsertGroupAsync(db, i == 7 ? "taken" : $"unique-{i}"), CancellationToken.None))
            .ToList();

        var violation = await Assert.ThrowsAnyAsync<DbException>(() => writes[7]);
        Assert.True(_database.IsUniqueViolation(violation));
        foreach (var i in Enumerable.Range(0, 20).Where(i => i != 7))
        {
            await writes[i];
            Assert.True(await GroupExistsAsync($"unique-{i}"), $"unique-{i}");
        }
    }

    [Fact]
    public async Task AWritesOwnTransactionCommitsOrRollsBackItsStatementsAlone()
    {
        var writes = Enumerable.Range(0, 30).Select(i => _database.WriteAsync(async db =>
        {
            await InsertGroupAsync(db, $"before-{i}");
            await using var tx = await _database.BeginWriteAsync(db, CancellationToken.None);
            await db.Command("INSERT INTO groups (name) VALUES (@name);", tx).With("@name", $"inside-{i}").ExecuteAsync();
            if (i % 2 == 0)
                await tx.CommitAsync();
            else
                await tx.RollbackAsync();
            await InsertGroupAsync(db, $"after-{i}");
        }, CancellationToken.None)).ToList();
        await Task.WhenAll(writes);

        foreach (var i in Enumerable.Range(0, 30))
        {
            Assert.True(await GroupExistsAsync($"before-{i}"), $"before-{i}");
            Assert.Equal(i % 2 == 0, await GroupExistsAsync($"inside-{i}"));
            Assert.True(await GroupExistsAsync($"after-{i}"), $"after-{i}");
        }
    }

    [Fact]
    public async Task ADeferredForeignKeyFailsOnlyTheWriteThatBrokeIt()
    {
        // As Django declares its foreign keys: checked at COMMIT, not at the statement.
        await TestStore.ExecuteAsync(_path, "CREATE TABLE deferred_members (id integer PRIMARY KEY, "
            + "group_id integer NOT NULL REFERENCES groups (id) DEFERRABLE INITIALLY DEFERRED);");
        await _database.WriteAsync(db => InsertGroupAsync(db, "referenced"), CancellationToken.None);
        await using var lookup = await TestStore.ConnectAsync(_path);
        var groupId = await lookup.Command("SELECT id FROM groups WHERE name = 'referenced';").ReadInt64Async();

        var writes = Enumerable.Range(0, 24).Select(i => _database.WriteAsync(async db =>
        {
            await using var tx = await _database.BeginWriteAsync(db, CancellationToken.None);
            await db.Command("INSERT INTO deferred_members (id, group_id) VALUES (@id, @group);", tx)
                .With("@id", i + 1).With("@group", i == 5 ? groupId + 1000 : groupId).ExecuteAsync();
            try
            {
                await tx.CommitAsync();
                return "committed";
            }
            catch (DbException e) when (_database.IsForeignKeyViolation(e))
            {
                // What the stores do with it (a user still referred to becomes a 409): the write sees its own commit fail.
                return "refused";
            }
        }, CancellationToken.None)).ToList();

        for (var i = 0; i < writes.Count; i++)
            Assert.Equal(i == 5 ? "refused" : "committed", await writes[i]);
        Assert.Equal(23, await lookup.Command("SELECT COUNT(*) FROM deferred_members;").ReadInt64Async());
    }

    [Fact]
    public async Task ATransactionDisposedUncommittedIsRolledBack()
    {
        await _database.WriteAsync(async db =>
        {
            await using (var tx = await _database.BeginWriteAsync(db, CancellationToken.None))
                await db.Command("INSERT INTO groups (name) VALUES ('abandoned');", tx).ExecuteAsync();
            await InsertGroupAsync(db, "kept");
        }, CancellationToken.None);
        Assert.False(await GroupExistsAsync("abandoned"));
        Assert.True(await GroupExistsAsync("kept"));
    }

    [Fact]
    [Trait("Store", "sqlite-only")] // PostgreSQL takes both writes at once: there is no turn to wait for.
    public async Task AWriteCancelledBeforeItsTurnNeverRuns()
    {
        // The first write holds the writer (on SQLite) until released; the second is cancelled while it waits.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = _database.WriteAsync(async db =>
        {
            started.SetResult();
            await release.Task;
            await InsertGroupAsync(db, "first");
        }, CancellationToken.None);
        await started.Task;
        using var cancel = new CancellationTokenSource();
        var second = _database.WriteAsync(db => InsertGroupAsync(db, "cancelled"), cancel.Token);
        await cancel.CancelAsync();
        release.SetResult();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        await first;
        Assert.True(await GroupExistsAsync("first"));
        Assert.False(await GroupExistsAsync("cancelled"));
    }

    [Fact]
    [Trait("Store", "sqlite-only")] // The group commit's queue.
    public async Task WritesQueuedWhenTheDatabaseIsClosedStillCommit()
    {
        var writes = Enumerable.Range(0, 20)
            .Select(i => _database.WriteAsync(db => InsertGroupAsync(db, $"closing-{i}"), CancellationToken.None)).ToList();
        await _database.DisposeAsync();
        await Task.WhenAll(writes);
        foreach (var i in Enumerable.Range(0, 20))
            Assert.True(await GroupExistsAsync($"closing-{i}"), $"closing-{i}");
    }
}
