using System.Net;
using System.Text.Json;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>The hyperlinked API's rules over real HTTP: shapes, links, pagination, permissions, CSRF, validation, negotiation.</summary>
public sealed class ApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly PosternTestServer _server = fixture.Server;
    private string Base => _server.BaseAddress.GetLeftPart(UriPartial.Authority);

    private async Task<Visitor> SignedInAsync(string username = "alice", string password = "alice-password")
    {
        var visitor = new Visitor(_server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, password)).Status);
        return visitor;
    }

    private static Task<RawResponse> WriteAsync(Visitor visitor, string method, string path, string? json = null) =>
        visitor.SendAsync(new HttpMethod(method), path, json is null ? null : RawHttp.Json(json), ("X-CSRFToken", visitor.CsrfCookie!));

    [Fact]
    public async Task TheRootLinksEveryCollectionAbsolutely()
    {
        var root = await (await SignedInAsync()).GetAsync("/api/");
        Assert.Equal(HttpStatusCode.OK, root.Status);
        Assert.Equal("GET, HEAD, OPTIONS",
            root.ContentHeaders.Allow.Count == 0 ? root.Header("Allow") : string.Join(", ", root.ContentHeaders.Allow));
        Assert.Equal("Accept, Cookie", root.Header("Vary"));
        var json = root.Json();
        Assert.Equal($"{Base}/api/users/", json.GetProperty("users").GetString());
        Assert.Equal($"{Base}/api/groups/", json.GetProperty("groups").GetString());
        Assert.Equal($"{Base}/api/sessions/", json.GetProperty("sessions").GetString());
    }

    [Fact]
    public async Task ListsArePagesOfTenInIdOrderAndTheLinksWalkToTheEnd()
    {
        var visitor = await SignedInAsync();
        var seen = new List<string>();
        string? next = "/api/users/";
        var pages = 0;
        while (next is not null)
        {
            var page = (await visitor.GetAsync(next)).Json();
            pages++;
            Assert.True(page.GetProperty("results").GetArrayLength() <= 10);
            seen.AddRange(page.GetProperty("results").EnumerateArray().Select(u => u.GetProperty("url").GetString()!));
            next = page.GetProperty("next").GetString();
            Assert.Equal(["count", "next", "previous", "results"], page.EnumerateObject().Select(p => p.Name));
        }
        var count = await _server.Users.CountUsersAsync();
        Assert.Equal(count, seen.Count);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        var ids = seen.Select(u => long.Parse(u.TrimEnd('/').Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal((int)((count + 9) / 10), pages);
    }

    [Fact]
    public async Task PreviousOfPageTwoHasNoPageParameterAndOtherParametersAreKeptSorted()
    {
        var visitor = await SignedInAsync();
        var page = (await visitor.GetAsync("/api/users/?zeta=1&page=2&alpha=x&page_size=2")).Json();
        Assert.Equal($"{Base}/api/users/?alpha=x&page_size=2&zeta=1", page.GetProperty("previous").GetString());
        Assert.Equal($"{Base}/api/users/?alpha=x&page=3&page_size=2&zeta=1", page.GetProperty("next").GetString());
    }

    [Theory]
    [InlineData("?page=0")]
    [InlineData("?page=99")]
    [InlineData("?page=abc")]
    [InlineData("?page=-1")]
    public async Task AnInvalidPageIsA404(string query)
    {
        var response = await (await SignedInAsync()).GetAsync("/api/users/" + query);
        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("Invalid page.", response.Detail);
    }

    [Fact]
    public async Task PageSizeIsOptionalAndCapped()
    {
        var visitor = await SignedInAsync();
        Assert.Equal(3, (await visitor.GetAsync("/api/users/?page_size=3")).Json().GetProperty("results").GetArrayLength());
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?> { ["Postern:Api:MaxPageSize"] = "2" });
        await server.SeedLikeDjangoPeerAsync(extraUsers: 5);
        var other = new Visitor(server.CreateRawClient());
        await other.LoginAsync("alice", "alice-password");
        Assert.Equal(2, (await other.GetAsync("/api/users/?page_size=50")).Json().GetProperty("results").GetArrayLength());
    }

    [Fact]
    public async Task ADetailEqualsItsListEntryAndLinksToItsGroups()
    {
        var visitor = await SignedInAsync();
        var entry = (await visitor.GetAsync("/api/users/")).Json().GetProperty("results")[0];
        var detail = (await visitor.GetAsync(entry.GetProperty("url").GetString()!)).Json();
        Assert.Equal(entry.GetRawText(), detail.GetRawText());
        Assert.Equal(["url", "username", "email", "groups", "is_active", "is_staff", "is_superuser"], detail.EnumerateObject().Select(p => p.Name));
        var group = (await visitor.GetAsync(detail.GetProperty("groups")[0].GetString()!)).Json();
        Assert.Equal("staff", group.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("/api/users/9999/", "No User matches the given query.")]
    [InlineData("/api/groups/9999/", "No Group matches the given query.")]
    [InlineData("/api/users/abc/", "Not found.")]
    public async Task AMissingObjectIsA404(string path, string detail)
    {
        var response = await (await SignedInAsync()).GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal(detail, response.Detail);
    }

    [Theory]
    [InlineData("/api/")]
    [InlineData("/api/users/")]
    [InlineData("/api/groups/1/")]
    [InlineData("/api/sessions/")]
    public async Task AnonymousRequestsAreRefused(string path)
    {
        var response = await _server.CreateRawClient().SendAsync(HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("Authentication credentials were not provided.", response.Detail);
    }

    [Fact]
    public async Task AnonymousWritesAreRefusedWithoutACsrfCheck()
    {
        var response = await _server.CreateRawClient().SendAsync(HttpMethod.Post, "/api/groups/", [], RawHttp.Json("""{"name": "x"}"""));
        Assert.Equal("Authentication credentials were not provided.", response.Detail);
    }

    [Fact]
    public async Task OnlyStaffWrite()
    {
        var bob = await SignedInAsync("bob", "bob-password");
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("/api/groups/")).Status);
        foreach (var (method, path) in new[]
        {
            ("POST", "/api/groups/"), ("PUT", "/api/groups/1/"), ("PATCH", "/api/groups/1/"), ("DELETE", "/api/groups/1/"),
            ("POST", "/api/users/"),
        })
        {
            var response = await WriteAsync(bob, method, path, """{"name": "nope"}""");
            Assert.Equal(HttpStatusCode.Forbidden, response.Status);
            Assert.Equal("You do not have permission to perform this action.", response.Detail);
        }
    }

    [Fact]
    public async Task SignedInWritesNeedTheTokenPair()
    {
        var alice = await SignedInAsync();
        var response = await alice.SendAsync(HttpMethod.Post, "/api/groups/", RawHttp.Json("""{"name": "no-token"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("CSRF Failed: CSRF token missing.", response.Detail);
    }

    [Fact]
    public async Task StaffCreateUpdateAndDeleteAGroup()
    {
        var alice = await SignedInAsync();
        var created = await WriteAsync(alice, "POST", "/api/groups/", """{"name": "editors", "ignored": true}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var url = created.Json().GetProperty("url").GetString()!;
        Assert.Equal(url, created.Headers.Location!.ToString());
        Assert.Equal("editors", created.Json().GetProperty("name").GetString());

        var renamed = await WriteAsync(alice, "PUT", url, """{"name": "writers"}""");
        Assert.Equal("writers", renamed.Json().GetProperty("name").GetString());
        var patched = await WriteAsync(alice, "PATCH", url, """{}""");
        Assert.Equal("writers", patched.Json().GetProperty("name").GetString());

        var deleted = await WriteAsync(alice, "DELETE", url);
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal("", deleted.Body);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync(url)).Status);
    }

    [Fact]
    public async Task StaffCreateAUserWithGroupsAndEditThem()
    {
        var alice = await SignedInAsync();
        var created = await WriteAsync(alice, "POST", "/api/users/",
            $$"""{"username": "dave", "email": "dave@example.org", "groups": ["{{Base}}/api/groups/2/"]}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var url = created.Json().GetProperty("url").GetString()!;
        Assert.Equal([$"{Base}/api/groups/2/"], created.Json().GetProperty("groups").EnumerateArray().Select(g => g.GetString()));

        var patched = await WriteAsync(alice, "PATCH", url, """{"groups": ["/api/groups/1/", "/api/groups/2/"]}""");
        Assert.Equal(2, patched.Json().GetProperty("groups").GetArrayLength());
        Assert.Equal("dave@example.org", patched.Json().GetProperty("email").GetString());

        var put = await WriteAsync(alice, "PUT", url, """{"username": "dave2"}""");
        Assert.Equal("dave2", put.Json().GetProperty("username").GetString());
        Assert.Equal(2, put.Json().GetProperty("groups").GetArrayLength());
        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(alice, "DELETE", url)).Status);
    }

    [Theory]
    [InlineData("/api/users/", """{}""", """{"username":["This field is required."]}""")]
    [InlineData("/api/users/", """{"username": "  "}""", """{"username":["This field may not be blank."]}""")]
    [InlineData("/api/users/", """{"username": "alice"}""", """{"username":["A user with that username already exists."]}""")]
    [InlineData("/api/users/", """{"username": "bad name!", "email": "no"}""",
        """{"username":["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]"""
        + ""","email":["Enter a valid email address."]}""")]
    [InlineData("/api/users/", """{"username": "x1", "groups": ["/api/groups/999/"]}""",
        """{"groups":["Invalid hyperlink - Object does not exist."]}""")]
    [InlineData("/api/users/", """{"username": "x1", "groups": ["nonsense"]}""", """{"groups":["Invalid hyperlink - No URL match."]}""")]
    [InlineData("/api/users/", """{"username": "x1", "groups": ["/api/users/1/"]}""",
        """{"groups":["Invalid hyperlink - Incorrect URL match."]}""")]
    [InlineData("/api/users/", """{"username": "x1", "groups": "x"}""",
        """{"groups":["Expected a list of items but got type \"str\"."]}""")]
    [InlineData("/api/users/", """{"username": "x1", "groups": [5]}""",
        """{"groups":["Incorrect type. Expected URL string, received int."]}""")]
    [InlineData("/api/users/", """{"username": true}""", """{"username":["Not a valid string."]}""")]
    [InlineData("/api/users/", """{"username": null}""", """{"username":["This field may not be null."]}""")]
    [InlineData("/api/users/", """[1]""", """{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}""")]
    [InlineData("/api/groups/", """{"name": ""}""", """{"name":["This field may not be blank."]}""")]
    [InlineData("/api/groups/", """{"name": "staff"}""", """{"name":["group with this name already exists."]}""")]
    public async Task ValidationErrorsAreDrfs(string path, string body, string expected)
    {
        var alice = await SignedInAsync();
        var response = await WriteAsync(alice, "POST", path, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(expected, response.Body);
    }

    [Theory]
    [InlineData("PATCH", "/api/users/2/", """{"username": "alice"}""", """{"username":["A user with that username already exists."]}""")]
    [InlineData("PUT", "/api/groups/2/", """{"name": "staff"}""", """{"name":["group with this name already exists."]}""")]
    public async Task RenamingToATakenNameIsA400(string method, string path, string body, string expected)
    {
        var alice = await SignedInAsync();
        var response = await WriteAsync(alice, method, path, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(expected, response.Body);
    }

    [Fact]
    public async Task LongNamesAreRefused()
    {
        var alice = await SignedInAsync();
        var response = await WriteAsync(alice, "POST", "/api/groups/", $$"""{"name": "{{new string('x', 151)}}"}""");
        Assert.Equal("""{"name":["Ensure this field has no more than 150 characters."]}""", response.Body);
    }

    [Fact]
    public async Task UnsupportedAndMalformedBodies()
    {
        var alice = await SignedInAsync();
        var text = await alice.SendAsync(HttpMethod.Post, "/api/groups/",
            new StringContent("name=x", System.Text.Encoding.UTF8, "text/plain"), ("X-CSRFToken", alice.CsrfCookie!));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.Status);
        Assert.Equal("Unsupported media type \"text/plain; charset=utf-8\" in request.", text.Detail);
        var malformed = await WriteAsync(alice, "POST", "/api/groups/", "{bad");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        Assert.StartsWith("JSON parse error - ", malformed.Detail, StringComparison.Ordinal);
        var form = await alice.SendAsync(HttpMethod.Post, "/api/groups/",
            RawHttp.Form(("name", "from-a-form"), ("csrfmiddlewaretoken", alice.CsrfCookie!)));
        Assert.Equal(HttpStatusCode.Created, form.Status);
    }

    [Fact]
    public async Task WrongMethodsAreA405WithAllow()
    {
        var alice = await SignedInAsync();
        var onDetail = await WriteAsync(alice, "POST", "/api/users/1/", "{}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, onDetail.Status);
        Assert.Equal("Method \"POST\" not allowed.", onDetail.Detail);
        Assert.Equal("GET, PUT, PATCH, DELETE, HEAD, OPTIONS", onDetail.Header("Allow"));
        var onList = await WriteAsync(alice, "DELETE", "/api/users/");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, onList.Status);
        Assert.Equal("GET, POST, HEAD, OPTIONS", onList.Header("Allow"));
    }

    [Fact]
    public async Task HeadAndOptionsAreAnswered()
    {
        var alice = await SignedInAsync();
        var head = await alice.SendAsync(HttpMethod.Head, "/api/users/");
        Assert.Equal(HttpStatusCode.OK, head.Status);
        Assert.Equal("", head.Body);
        var options = await alice.SendAsync(HttpMethod.Options, "/api/users/");
        Assert.Equal("User List", options.Json().GetProperty("name").GetString());
        Assert.True(options.Json().GetProperty("actions").TryGetProperty("POST", out _));
        var bob = await SignedInAsync("bob", "bob-password");
        Assert.False((await bob.SendAsync(HttpMethod.Options, "/api/users/")).Json().TryGetProperty("actions", out _));
    }

    [Theory]
    [InlineData(null, "application/json")]
    [InlineData("application/json", "application/json")]
    [InlineData("*/*", "application/json")]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html; charset=utf-8")]
    public async Task ContentIsNegotiated(string? accept, string contentType)
    {
        var alice = await SignedInAsync();
        var response = accept is null ? await alice.GetAsync("/api/users/") : await alice.GetAsync("/api/users/", ("Accept", accept));
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(contentType, response.ContentType);
    }

    [Fact]
    public async Task FormatOverridesAcceptAndTravelsInLinks()
    {
        var alice = await SignedInAsync();
        var forced = await alice.GetAsync("/api/?format=json", ("Accept", "text/html"));
        Assert.Equal("application/json", forced.ContentType);
        Assert.Equal($"{Base}/api/users/?format=json", forced.Json().GetProperty("users").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync("/api/?format=xml")).Status);
        var notAcceptable = await alice.GetAsync("/api/", ("Accept", "application/xml"));
        Assert.Equal(HttpStatusCode.NotAcceptable, notAcceptable.Status);
        Assert.Equal("Could not satisfy the request Accept header.", notAcceptable.Detail);
    }

    [Fact]
    public async Task FormatSuffixesWorkAndTravelInLinks()
    {
        var alice = await SignedInAsync();
        Assert.Equal($"{Base}/api/users.json", (await alice.GetAsync("/api/.json")).Json().GetProperty("users").GetString());
        var list = await alice.GetAsync("/api/users.json", ("Accept", "text/html"));
        Assert.Equal("application/json", list.ContentType);
        var first = list.Json().GetProperty("results")[0];
        Assert.EndsWith(".json", first.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Equal(first.GetRawText(), (await alice.GetAsync(first.GetProperty("url").GetString()!)).Json().GetRawText());
        Assert.Equal("text/html; charset=utf-8", (await alice.GetAsync("/api/groups/1.api")).ContentType);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync("/api/users.xml")).Status);
    }

    [Fact]
    public async Task LinksFollowTheProxysSchemeAndHostWhenTrusted()
    {
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Proxy:TrustForwardedProto"] = "true",
            ["Postern:Proxy:TrustForwardedHost"] = "true",
            ["Postern:AllowedHosts:0"] = "api.example.com",
            ["Postern:AllowedHosts:1"] = "127.0.0.1",
        });
        await server.SeedLikeDjangoPeerAsync(extraUsers: 0);
        var visitor = new Visitor(server.CreateRawClient());
        await visitor.GetAsync("/auth/csrf");
        await visitor.SendAsync(HttpMethod.Post, "/auth/login", RawHttp.Json("""{"username": "alice", "password": "alice-password"}"""),
            ("X-CSRFToken", visitor.CsrfCookie!), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "api.example.com"),
            ("Referer", "https://api.example.com/"));
        var root = await visitor.GetAsync("/api/", ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "api.example.com"));
        Assert.Equal("https://api.example.com/api/users/", root.Json().GetProperty("users").GetString());
    }

    [Fact]
    public async Task UsersSeeAndRevokeOnlyTheirOwnSessions()
    {
        await _server.CreateUserAsync("sessions-owner", "pw-12345678");
        var laptop = await SignedInAsync("sessions-owner", "pw-12345678");
        var phone = await SignedInAsync("sessions-owner", "pw-12345678");
        var alice = await SignedInAsync();

        var list = (await laptop.GetAsync("/api/sessions/")).Json().GetProperty("results");
        Assert.Equal(2, list.GetArrayLength());
        Assert.Single(list.EnumerateArray(), s => s.GetProperty("current").GetBoolean());
        var phoneSession = list.EnumerateArray().Single(s => !s.GetProperty("current").GetBoolean());
        Assert.DoesNotContain(phone.SessionCookie!, phoneSession.GetProperty("url").GetString(), StringComparison.Ordinal);

        // Not even staff can see someone else's session.
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync(phoneSession.GetProperty("url").GetString()!)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await WriteAsync(laptop, "DELETE", phoneSession.GetProperty("url").GetString()!)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await phone.GetAsync("/auth/user")).Status);

        var tablet = await SignedInAsync("sessions-owner", "pw-12345678");
        var revoked = await WriteAsync(laptop, "POST", "/api/sessions/revoke-others/");
        Assert.Equal(1, revoked.Json().GetProperty("revoked").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, (await tablet.GetAsync("/auth/user")).Status);
        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task WhoAmILinksTheUserResource()
    {
        var alice = await SignedInAsync();
        var me = (await alice.GetAsync("/auth/user")).Json();
        var url = me.GetProperty("url").GetString()!;
        Assert.Equal("alice", (await alice.GetAsync(url)).Json().GetProperty("username").GetString());
    }

    [Fact]
    public async Task UserDataIsEscapedInTheBrowsablePage()
    {
        var alice = await SignedInAsync();
        var created = await WriteAsync(alice, "POST", "/api/groups/", """{"name": "<script>alert(1)</script>"}""");
        var page = await alice.GetAsync(created.Json().GetProperty("url").GetString()!, ("Accept", "text/html"));
        Assert.DoesNotContain("<script>alert(1)</script>", page.Body, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", page.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheFormLoginComesBackToThePage()
    {
        var visitor = new Visitor(_server.CreateRawClient());
        var form = await visitor.GetAsync("/api-auth/login/?next=/api/users/");
        Assert.Equal(HttpStatusCode.OK, form.Status);
        var token = System.Text.RegularExpressions.Regex.Match(form.Body, "name=\"csrfmiddlewaretoken\" value=\"([A-Za-z0-9]{64})\"")
            .Groups[1].Value;
        var wrong = await visitor.SendAsync(HttpMethod.Post, "/api-auth/login/",
            RawHttp.Form(("csrfmiddlewaretoken", token), ("username", "alice"), ("password", "nope"), ("next", "/api/users/")));
        Assert.Equal(HttpStatusCode.OK, wrong.Status);
        Assert.Contains("Please enter a correct username and password.", wrong.Body, StringComparison.Ordinal);
        var login = await visitor.SendAsync(HttpMethod.Post, "/api-auth/login/",
            RawHttp.Form(("csrfmiddlewaretoken", token), ("username", "alice"), ("password", "alice-password"), ("next", "/api/users/")));
        Assert.Equal(HttpStatusCode.Found, login.Status);
        Assert.Equal("/api/users/", login.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/api/users/")).Status);
        var offsite = await new Visitor(_server.CreateRawClient()).GetAsync("/api-auth/login/?next=//evil.example/");
        Assert.Contains("name=\"next\" value=\"/api/\"", offsite.Body, StringComparison.Ordinal);
    }
}
