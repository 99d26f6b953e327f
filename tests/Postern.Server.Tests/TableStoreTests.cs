using Postern.Server.Storage;
using Postern.Server.Storage.Schema;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>A note, the made-up resource of these tests: every kind of column a table mapping has.</summary>
public sealed record Note(long Id, string Title, string? Body, bool Pinned, long Stars, DateTimeOffset WrittenAt);

/// <summary>The notes' storage, declared the way docs/architecture.md shows a new resource's.</summary>
public sealed class NoteStore(Database database) : TableStore<Note>(database, Notes)
{
    public static readonly TableMapping<Note> Notes = new TableMapping<Note>("notes",
            read: row => new Note(row.GetInt64(0), row.GetString(1), row.IsDBNull(2) ? null : row.GetString(2), row.GetBoolean(3),
                row.GetInt64(4), StoredRows.FromMicros(row.GetInt64(5))),
            withId: (note, id) => note with { Id = id })
        .Text("title", note => note.Title)
        .Text("body", note => note.Body)
        .Boolean("pinned", note => note.Pinned)
        .Number("stars", note => note.Stars)
        .Timestamp("written_at", note => note.WrittenAt);
}

/// <summary>
/// The generic table adapter on whichever store <see cref="TestStore"/> gives, for a resource of the tests' own: one
/// declaration (<see cref="NoteStore"/>) and one migration (<see cref="CreateNotes"/>).
/// </summary>
public sealed class TableStoreTests : IAsyncLifetime
{
    internal static readonly Migration CreateNotes = new("notes", sql => $"""
        CREATE TABLE notes (
            id {sql.AutoIncrementId},
            title {sql.Text} NOT NULL UNIQUE,
            body {sql.Text} NULL,
            pinned {sql.Boolean} NOT NULL DEFAULT {sql.False},
            stars {sql.BigInt} NOT NULL,
            written_at {sql.BigInt} NOT NULL
        );
        """);

    private static readonly DateTimeOffset Written = new(2025, 4, 1, 9, 30, 15, 123, 456, TimeSpan.Zero);

    private readonly string _folder = Directory.CreateTempSubdirectory("postern-table-").FullName;
    private Database _database = null!;
    private NoteStore _notes = null!;

    public async Task InitializeAsync()
    {
        _database = Database.Open(await TestStore.NewDatabaseAsync(_folder));
        await _database.MigrateAsync([.. Migrations.All, CreateNotes], CancellationToken.None);
        _notes = new NoteStore(_database);
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

    private static Note NoteTitled(string title, bool pinned = false) =>
        new(0, title, pinned ? null : "some text", pinned, title.Length, Written);

    [Fact]
    public async Task ItCreatesCountsListsFindsUpdatesAndDeletes()
    {
        Assert.Equal(0, await _notes.CountAsync());
        Assert.Empty(await _notes.ListAsync(0, 10));

        var first = await _notes.CreateAsync(NoteTitled("first"));
        var second = await _notes.CreateAsync(NoteTitled("second", pinned: true));
        var third = await _notes.CreateAsync(NoteTitled("third"));
        Assert.Equal(NoteTitled("first") with { Id = first.Id }, first);
        Assert.True(first.Id < second.Id && second.Id < third.Id);

        Assert.Equal(3, await _notes.CountAsync());
        Assert.Equal(second, await _notes.FindAsync(second.Id));
        Assert.Null(await _notes.FindAsync(third.Id + 1));
        Assert.Equal([first, second], await _notes.ListAsync(0, 2));
        Assert.Equal([third], await _notes.ListAsync(2, 2));

        var edited = second with
        {
            Title = "second, edited",
            Body = "now with a body",
            Pinned = false,
            Stars = 7,
            WrittenAt = Written.AddDays(1),
        };
        Assert.Equal(edited, await _notes.UpdateAsync(second.Id, edited with { Id = 0 }));
        Assert.Equal(edited, await _notes.FindAsync(second.Id));
        Assert.Null(await _notes.UpdateAsync(third.Id + 1, edited));

        Assert.True(await _notes.DeleteAsync(first.Id));
        Assert.False(await _notes.DeleteAsync(first.Id));
        Assert.Equal([edited, third], await _notes.ListAsync(0, 10));
        Assert.Equal(2, await _notes.CountAsync());
    }

    [Fact]
    public async Task ATakenValueOfAUniqueColumnIsADuplicateValueNamingTheColumn()
    {
        var first = await _notes.CreateAsync(NoteTitled("taken"));
        var second = await _notes.CreateAsync(NoteTitled("free"));

        var created = await Assert.ThrowsAsync<DuplicateValueException>(() => _notes.CreateAsync(NoteTitled("taken")));
        Assert.Equal(("notes", "title"), (created.Table, created.Column));
        var updated = await Assert.ThrowsAsync<DuplicateValueException>(
            () => _notes.UpdateAsync(second.Id, second with { Title = "taken" }));
        Assert.Equal(("notes", "title"), (updated.Table, updated.Column));

        Assert.Equal([first, second], await _notes.ListAsync(0, 10));
    }

    [Fact]
    public void ItsStatementsAreWrittenFromTheMapping()
    {
        Assert.Equal("id, title, body, pinned, stars, written_at", NoteStore.Notes.SelectList);
        Assert.Equal("id, name", GroupStore.Groups.SelectList);
    }
}
