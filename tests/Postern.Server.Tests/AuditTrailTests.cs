using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Server.Storage;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The audit trail on a real server: each flow's events listed afterwards through <c>/api/events/</c>, who sees which, the
/// filters with django-filter's answers, the staff changes with their actor, and retention.
/// </summary>
public sealed class AuditTrailTests
{
    private const string Password = "a-long-password";

    private static Task<PosternTestServer> StartAsync(bool throttling = false) =>
        PosternTestServer.StartAsync(new Dictionary<string, string?> { ["Postern:Throttling:Enabled"] = throttling ? "true" : "false" });

    private static async Task<Visitor> SignedInAsync(PosternTestServer server, string username)
    {
        var visitor = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, Password)).Status);
        return visitor;
    }

    private static async Task<JsonElement[]> EventsAsync(Visitor visitor, string query = "")
    {
        var page = await visitor.GetAsync("/api/events/" + query);
        Assert.True(page.Status == HttpStatusCode.OK, page.Body);
        return [.. page.Json().GetProperty("results").EnumerateArray()];
    }

    private static string[] Kinds(IEnumerable<JsonElement> events) => [.. events.Select(e => e.GetProperty("kind").GetString()!)];

    [Fact]
    public async Task LoginsFailuresAndLogoutsAreListedToTheUserAndToStaff()
    {
        await using var server = await StartAsync();
        var alice = await server.CreateUserAsync("alice", Password);
        await server.CreateUserAsync("boss", Password, staff: true);

        var browser = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.LoginAsync("alice", "wrong")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.LoginAsync("nobody-here", "wrong")).Status);
        var aliceBrowser = await SignedInAsync(server, "alice");
        Assert.Equal(HttpStatusCode.OK, (await aliceBrowser.PostWithTokenAsync(EndpointPaths.Logout)).Status);
        var aliceAgain = await SignedInAsync(server, "alice");

        var own = await EventsAsync(aliceAgain);
        Assert.Equal([AuditEventKinds.LoginSucceeded, AuditEventKinds.Logout, AuditEventKinds.LoginSucceeded, AuditEventKinds.LoginFailed],
            Kinds(own));
        var failed = own[^1];
        Assert.EndsWith($"/api/users/{alice.Id}/", failed.GetProperty("user").GetString());
        Assert.Equal("alice", failed.GetProperty("username").GetString());
        Assert.Equal("127.0.0.1", failed.GetProperty("address").GetString());
        Assert.Equal("", failed.GetProperty("actor").GetString());
        Assert.Equal("Invalid username or password. (POST /auth/login)", failed.GetProperty("detail").GetString());
        Assert.DoesNotContain("wrong", failed.GetRawText(), StringComparison.Ordinal);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT", failed.GetProperty("time").GetString());

        // Staff see everyone's, the unknown username's failure with no user; alice cannot see it, nor ask for others'.
        var boss = await SignedInAsync(server, "boss");
        var all = await EventsAsync(boss);
        var unknown = Assert.Single(all, e => e.GetProperty("username").GetString() == "nobody-here");
        Assert.Equal(JsonValueKind.Null, unknown.GetProperty("user").ValueKind);
        var unknownUrl = unknown.GetProperty("url").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await boss.GetAsync(new Uri(unknownUrl).PathAndQuery)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await aliceAgain.GetAsync(new Uri(unknownUrl).PathAndQuery)).Status);
        Assert.Empty(await EventsAsync(aliceAgain, "?user=" + (alice.Id + 1)));
        Assert.Equal(4, (await EventsAsync(boss, $"?user={alice.Id}")).Length);
        Assert.Equal(2, (await EventsAsync(boss, $"?user={alice.Id}&kind={AuditEventKinds.LoginSucceeded}")).Length);
        Assert.Empty(await EventsAsync(boss, "?since=2999-01-01T00:00:00Z"));
        Assert.Empty(await EventsAsync(boss, "?until=2000-01-01"));
        Assert.Equal(all.Length, (await EventsAsync(boss, "?since=2000-01-01&until=&kind=")).Length);

        // Bad filters: 400 with django-filter's messages, keyed by the parameter.
        var bad = await boss.GetAsync("/api/events/?user=abc&kind=login.nonsense&since=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal(
            """{"user":["Select a valid choice. That choice is not one of the available choices."],"kind":["Select a valid choice. login.nonsense is not one of the available choices."],"since":["Enter a valid date/time."]}""",
            bad.Body);

        // Read-only, and anonymous requests are refused as everywhere.
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await boss.PostWithTokenAsync("/api/events/", RawHttp.Json("{}"))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await new Visitor(server.CreateRawClient()).GetAsync("/api/events/")).Status);
    }

    [Fact]
    public async Task ALockStaffChangesTokensSessionsAndPasswordChangesAreRecorded()
    {
        await using var server = await StartAsync(throttling: true);
        var carol = await server.CreateUserAsync("carol", Password);
        await server.CreateUserAsync("root", Password, staff: true);
        await server.ExecuteSqlAsync("UPDATE users SET is_superuser = (1 = 1) WHERE username = 'root';");

        var attacker = new Visitor(server.CreateRawClient());
        for (var i = 0; i < 5; i++)
            await attacker.LoginAsync("carol", "guess-" + i);
        Assert.Equal((HttpStatusCode)429, (await attacker.LoginAsync("carol", "guess-5")).Status);

        var root = await SignedInAsync(server, "root");
        var locked = Assert.Single(await EventsAsync(root, "?kind=" + AuditEventKinds.LoginLocked));
        Assert.Equal("carol", locked.GetProperty("username").GetString());
        Assert.Equal("Locked for 60 seconds after repeated failures.", locked.GetProperty("detail").GetString());
        // The refused attempt while locked is not recorded one by one.
        Assert.Equal(5, (await EventsAsync(root, "?kind=" + AuditEventKinds.LoginFailed)).Length);

        var patched = await root.SendAsync(HttpMethod.Patch, $"/api/users/{carol.Id}/", RawHttp.Json("""{"is_staff": true, "is_active": false}"""),
            (HeaderNames.CsrfToken, root.CsrfCookie!));
        Assert.Equal(HttpStatusCode.OK, patched.Status);
        var changes = await EventsAsync(root, $"?user={carol.Id}&since=2000-01-01");
        Assert.Contains(AuditEventKinds.StaffGranted, Kinds(changes));
        Assert.Contains(AuditEventKinds.UserDeactivated, Kinds(changes));
        Assert.All(changes.Where(e => e.GetProperty("kind").GetString()!.StartsWith("user.", StringComparison.Ordinal)),
            e => Assert.Equal("root", e.GetProperty("actor").GetString()));

        var token = await root.PostWithTokenAsync(ApiToken.ListPath, RawHttp.Json("""{"name": "ci"}"""));
        Assert.Equal(HttpStatusCode.Created, token.Status);
        Assert.Equal(HttpStatusCode.NoContent,
            (await root.SendAsync(HttpMethod.Delete, new Uri(token.Json().GetProperty("url").GetString()!).PathAndQuery, null,
                (HeaderNames.CsrfToken, root.CsrfCookie!))).Status);
        Assert.Equal(HttpStatusCode.OK, (await root.PostWithTokenAsync("/api/sessions/revoke-others/", RawHttp.Json("{}"))).Status);
        var changed = await root.PostWithTokenAsync(EndpointPaths.PasswordChange,
            RawHttp.Json($$"""{"old_password": "{{Password}}", "new_password1": "another-long-password", "new_password2": "another-long-password"}"""));
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        var mine = Kinds(await EventsAsync(root, "?user=" + (await server.Users.FindUserByUsernameAsync("root"))!.Id));
        Assert.Equal([AuditEventKinds.PasswordChanged, AuditEventKinds.SessionRevoked, AuditEventKinds.TokenRevoked,
            AuditEventKinds.TokenCreated, AuditEventKinds.LoginSucceeded], mine);
    }

    [Fact]
    public async Task SessionsEndedForBeingTooManyAreRecorded()
    {
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Sessions:MaxPerUser"] = "2",
        });
        await server.CreateUserAsync("erin", Password);
        Visitor last = null!;
        for (var i = 0; i < 4; i++)
            last = await SignedInAsync(server, "erin");
        var trimmed = Assert.Single(await EventsAsync(last, "?kind=" + AuditEventKinds.SessionsTrimmed));
        Assert.Equal("Ended the 2 oldest sessions: at most 2 are kept.", trimmed.GetProperty("detail").GetString());
        Assert.Equal(2, (await last.GetAsync("/api/sessions/")).Json().GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task EventsOlderThanTheRetentionAreDeletedAndTheOpenApiDocumentDescribesTheFilters()
    {
        await using var server = await StartAsync();
        await server.CreateUserAsync("dave", Password, staff: true);
        var dave = await SignedInAsync(server, "dave");
        var store = server.Services.GetRequiredService<AuditStore>();
        Assert.Equal(0, await store.DeleteOlderThanAsync(DateTimeOffset.UtcNow.AddDays(-90)));
        Assert.Equal(1, await store.DeleteOlderThanAsync(DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Empty(await EventsAsync(dave));

        var document = (await dave.GetAsync("/api/schema/?format=json")).Json();
        var parameters = document.GetProperty("paths").GetProperty("/api/events/").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Where(p => p.TryGetProperty("name", out _)).Select(p => p.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["user", "kind", "since", "until"], parameters);
    }
}
