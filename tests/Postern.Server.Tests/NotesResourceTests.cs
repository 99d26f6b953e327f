using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Postern.Server.Api;
using Postern.Server.Storage;
using Postern.Server.Storage.Schema;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// A resource added as docs/architecture.md shows (<see cref="NotesResource"/>: one declaration; one migration) gets every
/// generic view with DRF's validation, its place in the API root, OPTIONS, the browsable page's form and the OpenAPI
/// document, with nothing else written for it.
/// </summary>
public sealed class NotesResourceTests : IAsyncLifetime
{
    private PosternTestServer _server = null!;
    private Visitor _alice = null!;

    public async Task InitializeAsync()
    {
        var folder = Directory.CreateTempSubdirectory("postern-notes-").FullName;
        var database = await TestStore.NewDatabaseAsync(folder);
        await using (var schema = Database.Open(database))
            await schema.MigrateAsync([.. Migrations.All, TableStoreTests.CreateNotes], CancellationToken.None);
        _server = await PosternTestServer.StartAsync(folder: folder, databasePath: database, services: services =>
        {
            services.AddSingleton<NoteStore>();
            services.AddApiResource(NotesResource.Declaration);
        });
        await _server.SeedLikeDjangoPeerAsync(extraUsers: 0);
        _alice = new Visitor(_server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await _alice.LoginAsync("alice", "alice-password")).Status);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<RawResponse> SendAsync(HttpMethod method, string path, string? json = null) =>
        _alice.SendAsync(method, path, json is null ? null : RawHttp.Json(json), (Protocol.HeaderNames.CsrfToken, _alice.CsrfCookie ?? ""));

    [Fact]
    public async Task EveryGenericViewWorksFromTheDeclarationAlone()
    {
        var created = await SendAsync(HttpMethod.Post, "/api/notes/", """{"title": " first ", "stars": "3"}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var note = created.Json();
        var url = note.GetProperty("url").GetString()!;
        Assert.Equal(url, created.Headers.Location?.ToString());
        Assert.Equal("first", note.GetProperty("title").GetString());
        Assert.Equal(JsonValueKind.Null, note.GetProperty("body").ValueKind);
        Assert.False(note.GetProperty("pinned").GetBoolean());
        Assert.Equal(3, note.GetProperty("stars").GetInt64());
        Assert.True(IsoDateTime.TryParse(note.GetProperty("written_at").GetString()!, out _));
        var path = new Uri(url).AbsolutePath;

        var list = (await SendAsync(HttpMethod.Get, "/api/notes/")).Json();
        Assert.Equal(1, list.GetProperty("count").GetInt64());
        Assert.Equal(note.GetRawText(), list.GetProperty("results")[0].GetRawText());
        Assert.Equal(note.GetRawText(), (await SendAsync(HttpMethod.Get, path)).Json().GetRawText());
        Assert.EndsWith("/api/notes/", (await SendAsync(HttpMethod.Get, "/api/")).Json().GetProperty("notes").GetString(),
            StringComparison.Ordinal);

        // PATCH changes what it sends; PUT takes the defaults of what it leaves out (and keeps a field without one).
        var patched = (await SendAsync(HttpMethod.Patch, path, """{"pinned": "yes", "body": "remember"}""")).Json();
        Assert.True(patched.GetProperty("pinned").GetBoolean());
        Assert.Equal("first", patched.GetProperty("title").GetString());
        var put = (await SendAsync(HttpMethod.Put, path, """{"title": "renamed"}""")).Json();
        Assert.Equal("renamed", put.GetProperty("title").GetString());
        Assert.False(put.GetProperty("pinned").GetBoolean());
        Assert.Equal(0, put.GetProperty("stars").GetInt64());
        Assert.Equal("remember", put.GetProperty("body").GetString());
        Assert.Equal(note.GetProperty("written_at").GetString(), put.GetProperty("written_at").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, path)).Status);
        var gone = await SendAsync(HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Equal("No Note matches the given query.", gone.Json().GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{}""", """{"title":["This field is required."]}""")]
    [InlineData("""{"title": "x", "stars": 9}""", """{"stars":["Ensure this value is less than or equal to 5."]}""")]
    [InlineData("""{"title": "x", "stars": "many", "pinned": "perhaps"}""",
        """{"pinned":["Must be a valid boolean."],"stars":["A valid integer is required."]}""")]
    [InlineData("""{"title": "x", "written_at": "nonsense", "body": null}""", null)]
    public async Task ValidationFollowsTheFields(string body, string? errors)
    {
        var answer = await SendAsync(HttpMethod.Post, "/api/notes/", body);
        if (errors is null)
        {
            Assert.Equal(HttpStatusCode.Created, answer.Status);
            return;
        }
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal(errors, answer.Body);
    }

    [Fact]
    public async Task ATakenUniqueColumnIsTheFieldsError()
    {
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "/api/notes/", """{"title": "twice"}""")).Status);
        var again = await SendAsync(HttpMethod.Post, "/api/notes/", """{"title": "twice"}""");
        Assert.Equal(HttpStatusCode.BadRequest, again.Status);
        Assert.Equal("""{"title":["note with this title already exists."]}""", again.Body);
    }

    [Fact]
    public async Task OptionsTheBrowsableFormAndTheOpenApiDocumentDescribeIt()
    {
        var actions = (await SendAsync(HttpMethod.Options, "/api/notes/")).Json().GetProperty("actions").GetProperty("POST");
        Assert.Equal("integer", actions.GetProperty("stars").GetProperty("type").GetString());
        Assert.Equal(5, actions.GetProperty("stars").GetProperty("max_value").GetInt64());
        Assert.True(actions.GetProperty("written_at").GetProperty("read_only").GetBoolean());
        Assert.Equal("Anything worth remembering.", actions.GetProperty("body").GetProperty("help_text").GetString());

        var page = await _alice.GetAsync("/api/notes/", ("Accept", "text/html"));
        Assert.Contains("name=\"stars\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("type=\"checkbox\"", page.Body, StringComparison.Ordinal);

        var document = (await SendAsync(HttpMethod.Get, "/api/schema/")).Json();
        Assert.True(document.GetProperty("paths").TryGetProperty("/api/notes/", out _));
        Assert.True(document.GetProperty("paths").TryGetProperty("/api/notes/{id}/", out _));
    }
}
