using Postern.Server.Api;

namespace Postern.Server.Tests;

/// <summary>
/// The worked example of docs/architecture.md, word for word: a resource added to the API as one declaration (this class,
/// over <see cref="NoteStore"/>) and one migration (<see cref="TableStoreTests.CreateNotes"/>). Its routes, links, API root
/// entry, validation, OPTIONS, browsable forms and OpenAPI paths all follow from it (<see cref="NotesResourceTests"/>).
/// </summary>
public static class NotesResource
{
    public static readonly UrlField<Note> Url = new();

    public static readonly StringField<Note> Title = new("title", note => note.Title) { MaxLength = 100 };

    public static readonly StringField<Note> Body = new("body", note => note.Body)
    {
        Required = false,
        AllowBlank = true,
        AllowNull = true,
        HelpText = "Anything worth remembering.",
    };

    public static readonly BooleanField<Note> Pinned = new("pinned", note => note.Pinned) { Required = false, Default = false };

    public static readonly IntegerField<Note> Stars = new("stars", note => note.Stars)
    {
        Required = false,
        Default = 0,
        MinValue = 0,
        MaxValue = 5,
    };

    public static readonly DateTimeField<Note> WrittenAt = new("written_at", note => note.WrittenAt) { ReadOnly = true };

    public static readonly Resource<Note> Declaration = new()
    {
        Name = "Note",
        Path = "notes",
        Description = "Notes of the signed-in users: any of them reads and writes any note.",
        Fields = [Url, Title, Body, Pinned, Stars, WrittenAt],
        Permissions = [ApiPermissions.IsAuthenticated],
        Operations = Operations.All,
        IdOf = note => note.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        DisplayOf = note => note.Title,
        Store = new TableResourceStore<Note>(request => request.Service<NoteStore>(), note => note.Id,
            (request, data, current) => new Note(
                current?.Id ?? 0,
                data.Get(Title, current?.Title)!,
                data.Has(Body) ? data.Get(Body) : current?.Body,
                data.Get(Pinned, current?.Pinned ?? false),
                data.Get(Stars, current?.Stars) ?? 0,
                current?.WrittenAt ?? request.Time.GetUtcNow())),
    };
}
