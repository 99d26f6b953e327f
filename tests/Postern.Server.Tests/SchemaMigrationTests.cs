using Postern.Server.Storage;
using Postern.Server.Storage.Schema;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The schema written once (Storage/Schema/Migrations.cs), on whichever store <see cref="TestStore"/> gives: migration 1
/// writes exactly what version 1's hand-written schema for that store wrote, and a database that version created keeps
/// its tables and data, gains the later migrations' and serves.
/// </summary>
public sealed class SchemaMigrationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("postern-migrations-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A database as Postern version 1 left it after its first start.</summary>
    private async Task<string> VersionOneDatabaseAsync(string name)
    {
        var database = await TestStore.NewDatabaseAsync(_folder, name);
        if (!TestStore.UsesPostgres)
            await File.WriteAllBytesAsync(database, []); // an empty file is an empty SQLite database
        await TestStore.ExecuteAsync(database, VersionOneSchema.ScriptFor(TestStore.UsesPostgres));
        return database;
    }

    [Fact]
    public async Task MigrationOneWritesExactlyTheSchemaVersionOneWrote()
    {
        var versionOne = await TestStore.SchemaAsync(await VersionOneDatabaseAsync("version-one"));
        var fresh = await TestStore.NewDatabaseAsync(_folder, "migrated");
        await using (var database = Database.Open(fresh))
            await database.MigrateAsync([Migrations.All[0]], CancellationToken.None);

        Assert.Contains(versionOne, line => line.Contains("sessions_expires", StringComparison.Ordinal));
        Assert.Equal(versionOne, await TestStore.SchemaAsync(fresh));
        Assert.Equal(["1"], await TestStore.QueryTextsAsync(fresh, "SELECT version FROM schema_version;"));
    }

    /// <summary>Every migration's number, as <c>schema_version</c> records them.</summary>
    private static IEnumerable<string> VersionsUpTo(int last) =>
        Enumerable.Range(1, last).Select(version => version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task ADatabaseThatVersionOneCreatedKeepsItsTablesGainsTheLaterOnesAndServes()
    {
        var path = await VersionOneDatabaseAsync("in-use");
        var versionOne = await TestStore.SchemaAsync(path);
        await TestStore.ExecuteAsync(path, "INSERT INTO groups (name) VALUES ('made-by-version-one');");
        var fresh = await TestStore.NewDatabaseAsync(_folder, "fresh");
        await using (var database = Database.Open(fresh))
            await database.MigrateAsync();

        await using var server = await PosternTestServer.StartAsync(databasePath: path);

        Assert.Equal(VersionsUpTo(Migrations.All.Count),
            await TestStore.QueryTextsAsync(path, "SELECT version FROM schema_version ORDER BY version;"));
        var upgraded = await TestStore.SchemaAsync(path);
        Assert.Equal(await TestStore.SchemaAsync(fresh), upgraded);
        // Every table, column and index of version one is still there as it was; a table that a later migration gave more
        // columns (users: first_name, last_name) keeps its first ones as they were, the new ones appended.
        Assert.All(versionOne, line => Assert.True(
            upgraded.Contains(line) || upgraded.Any(now => line.EndsWith(')') && now.StartsWith(line[..^1].TrimEnd(), StringComparison.Ordinal)),
            $"lost or changed: {line}"));
        Assert.NotNull(await server.Groups.FindGroupByNameAsync("made-by-version-one"));
        await server.CreateUserAsync("made-after-the-upgrade", "pw-12345678");
        var visitor = new Visitor(server.CreateRawClient());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await visitor.LoginAsync("made-after-the-upgrade", "pw-12345678")).Status);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await visitor.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task AMigrationAddedLaterIsAppliedOnceAndRecorded()
    {
        var path = await TestStore.NewDatabaseAsync(_folder, "later");
        Migration[] withNotes = [.. Migrations.All, TableStoreTests.CreateNotes];
        await using var database = Database.Open(path);
        await database.MigrateAsync();
        Assert.DoesNotContain("notes", await TestStore.TablesAsync(path));

        await database.MigrateAsync(withNotes, CancellationToken.None);
        await database.MigrateAsync(withNotes, CancellationToken.None);
        await database.MigrateAsync();

        Assert.Contains("notes", await TestStore.TablesAsync(path));
        Assert.Equal(VersionsUpTo(withNotes.Length),
            await TestStore.QueryTextsAsync(path, "SELECT version FROM schema_version ORDER BY version;"));
    }
}
