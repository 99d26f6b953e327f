using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Postern.Testing;

namespace Postern.Differential.Tests;

// The hyperlinked API, played against the Django peer (DRF 3.18) and Postern. Both are seeded alike
// (same users, groups and ids), so read answers must be equal byte for byte once each server's own
// origin is replaced by {origin}. Deliberate differences, said where they apply:
//  A. The API root: Postern also links "sessions", "tokens" and "events" (its own resources); the peer's links must be a subset, equal.
//  B. An unknown path: the peer's HTML 404 page, Postern's JSON {"detail": "Not found."}; same status.
//  C. Malformed JSON: the same status and "JSON parse error - " prefix; the rest is each parser's own message.

/// <summary>One signed-in (or anonymous) browser-like client per server, sending identical requests.</summary>
internal sealed class ApiClientPair(ServerPair servers)
{
    private readonly CookieJar _peerJar = new();
    private readonly CookieJar _posternJar = new();

    public ServerPair Servers => servers;

    public static async Task<ApiClientPair> SignedInAsync(ServerPair servers, string? username, string? password)
    {
        var pair = new ApiClientPair(servers);
        if (username is not null)
        {
            await pair.SendAsync(HttpMethod.Get, "/auth/csrf");
            var (peer, postern) = await pair.SendAsync(HttpMethod.Post, "/auth/login",
                () => RawHttp.Json(JsonSerializer.Serialize(new { username, password })), withToken: true);
            Assert.Equal(HttpStatusCode.OK, peer.Status);
            Assert.Equal(HttpStatusCode.OK, postern.Status);
        }
        return pair;
    }

    public async Task<(RawResponse Peer, RawResponse Postern)> SendAsync(HttpMethod method, string path, Func<HttpContent>? content = null,
        bool withToken = false, params (string, string)[] headers)
    {
        var peer = await SendOneAsync(servers.PeerClient, _peerJar, method, path, content?.Invoke(), withToken, headers);
        var postern = await SendOneAsync(servers.PosternClient, _posternJar, method, path, content?.Invoke(), withToken, headers);
        return (peer, postern);
    }

    private static async Task<RawResponse> SendOneAsync(HttpClient client, CookieJar jar, HttpMethod method, string path,
        HttpContent? content, bool withToken, (string, string)[] headers)
    {
        var all = jar.Header().Concat(headers);
        if (withToken)
            all = all.Append(("X-CSRFToken", jar[Protocol.CookieNames.Csrf] ?? ""));
        var response = await client.SendAsync(method, path, all, content);
        jar.Absorb(response);
        return response;
    }

    /// <summary>Cookie and token headers of one side, for requests sent to that side alone.</summary>
    public (string, string)[] HeadersFor(bool peer)
    {
        var jar = peer ? _peerJar : _posternJar;
        return [.. jar.Header(), ("X-CSRFToken", jar[Protocol.CookieNames.Csrf] ?? "")];
    }

    /// <summary>The body with the server's own origin written as {origin}, and, when asked, object ids as {id}.</summary>
    public string Normalized(RawResponse response, bool maskIds = false)
    {
        var text = response.Body
            .Replace(servers.Peer.BaseAddress.GetLeftPart(UriPartial.Authority), "{origin}", StringComparison.Ordinal)
            .Replace(servers.Postern.BaseAddress.GetLeftPart(UriPartial.Authority), "{origin}", StringComparison.Ordinal);
        return maskIds ? Ids().Replace(text, "/${collection}/{id}/") : text;
    }

    private static Regex Ids() => new("/(?<collection>users|groups)/[0-9]+/", RegexOptions.CultureInvariant);
}

[Collection(DifferentialServersCollectionDefinition.Name)]
public sealed class ApiDifferentialTests(DifferentialServers servers)
{
    private ServerPair Pair => servers.For(Transport.Http);

    private Task<ApiClientPair> AsAsync(string? username, string? password = null) => ApiClientPair.SignedInAsync(Pair, username, password);

    private static void AssertSameAnswer(
        ApiClientPair clients, (RawResponse Peer, RawResponse Postern) answer, bool maskIds = false, string? what = null)
    {
        var (peer, postern) = answer;
        var context = $"{what}\npeer: {(int)peer.Status} {peer.Body}\npostern: {(int)postern.Status} {postern.Body}";
        Assert.True(peer.Status == postern.Status, "status differs: " + context);
        Assert.True(peer.ContentHeaders.ContentType?.MediaType == postern.ContentHeaders.ContentType?.MediaType,
            "content type differs: " + context);
        Assert.True(peer.Header("Allow") == postern.Header("Allow"),
            $"Allow differs ({peer.Header("Allow")} / {postern.Header("Allow")}): " + context);
        Assert.True(peer.Header("Vary") == postern.Header("Vary"),
            $"Vary differs ({peer.Header("Vary")} / {postern.Header("Vary")}): " + context);
        if (peer.ContentHeaders.ContentType?.MediaType == "application/json")
            Assert.True(clients.Normalized(peer, maskIds) == clients.Normalized(postern, maskIds), "body differs: " + context);
        else
            Assert.True((peer.Body.Length == 0) == (postern.Body.Length == 0), "one body is empty, the other not: " + context);
    }

    [Fact]
    public async Task TheRootLinksTheSameCollections()
    {
        var bob = await AsAsync("bob", "bob-password");
        var (peer, postern) = await bob.SendAsync(HttpMethod.Get, "/api/");
        Assert.Equal(peer.Status, postern.Status);
        Assert.Equal(peer.Header("Allow"), postern.Header("Allow"));
        // Deliberate difference A: Postern's root is a superset.
        var posternRoot = JsonDocument.Parse(bob.Normalized(postern)).RootElement;
        foreach (var link in JsonDocument.Parse(bob.Normalized(peer)).RootElement.EnumerateObject())
            Assert.Equal(link.Value.GetString(), posternRoot.GetProperty(link.Name).GetString());
    }

    [Theory]
    [InlineData("/api/users/")]
    [InlineData("/api/groups/")]
    public async Task EveryPageToTheEndAndEveryDetailAreTheSame(string list)
    {
        var bob = await AsAsync("bob", "bob-password");
        string? next = list;
        var pages = 0;
        while (next is not null)
        {
            var answer = await bob.SendAsync(HttpMethod.Get, next);
            AssertSameAnswer(bob, answer, what: next);
            var page = answer.Postern.Json();
            foreach (var entry in page.GetProperty("results").EnumerateArray())
            {
                var path = new Uri(entry.GetProperty("url").GetString()!).PathAndQuery;
                var detail = await bob.SendAsync(HttpMethod.Get, path);
                AssertSameAnswer(bob, detail, what: path);
                Assert.Equal(entry.GetRawText(), detail.Postern.Json().GetRawText());
            }
            next = page.GetProperty("next").GetString() is { } url ? new Uri(url).PathAndQuery : null;
            pages++;
        }
        Assert.True(pages >= 1);
    }

    [Theory]
    [InlineData("/api/users/9999/")]
    [InlineData("/api/groups/9999/")]
    [InlineData("/api/users/abc/")]
    [InlineData("/api/users/?page=99")]
    [InlineData("/api/users/?page=0")]
    [InlineData("/api/users/?page=abc")]
    [InlineData("/api/users/?page=last")]
    [InlineData("/api/users/?page=2&zeta=1&alpha=b")]
    [InlineData("/api/users/?format=json")]
    [InlineData("/api/users/?format=xml")]
    [InlineData("/api/users.json")]
    [InlineData("/api/users/1.json")]
    [InlineData("/api/groups/2.json/")]
    [InlineData("/api/users.xml")]
    public async Task ReadsAnswerTheSame(string path)
    {
        var bob = await AsAsync("bob", "bob-password");
        AssertSameAnswer(bob, await bob.SendAsync(HttpMethod.Get, path), what: path);
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData("application/json")]
    [InlineData("*/*")]
    [InlineData("application/json; indent=4, text/html")]
    [InlineData("application/json; indent=2")]
    [InlineData("text/html; q=0.5, application/json")]
    public async Task NegotiationAnswersTheSame(string accept)
    {
        var bob = await AsAsync("bob", "bob-password");
        AssertSameAnswer(bob, await bob.SendAsync(HttpMethod.Get, "/api/groups/", null, false, ("Accept", accept)), what: accept);
    }

    [Fact]
    public async Task ABrowserGetsHtmlFromBoth()
    {
        var bob = await AsAsync("bob", "bob-password");
        var (peer, postern) = await bob.SendAsync(HttpMethod.Get, "/api/users/1/", null, false,
            ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
        Assert.Equal(HttpStatusCode.OK, peer.Status);
        Assert.Equal(HttpStatusCode.OK, postern.Status);
        Assert.Equal("text/html", peer.ContentHeaders.ContentType?.MediaType);
        Assert.Equal("text/html", postern.ContentHeaders.ContentType?.MediaType);
        // Both pages hand out a CSRF cookie for their forms.
        Assert.NotNull(peer.Cookie("csrftoken"));
        Assert.NotNull(postern.Cookie("csrftoken"));
    }

    [Theory]
    [InlineData("GET", "/api/")]
    [InlineData("GET", "/api/users/")]
    [InlineData("GET", "/api/groups/1/")]
    [InlineData("POST", "/api/groups/")]
    [InlineData("DELETE", "/api/groups/1/")]
    [InlineData("OPTIONS", "/api/users/")]
    public async Task AnonymousRequestsAreRefusedAlike(string method, string path)
    {
        var anonymous = await AsAsync(null);
        AssertSameAnswer(anonymous,
            await anonymous.SendAsync(new HttpMethod(method), path, () => RawHttp.Json("""{"name": "x"}""")), what: path);
    }

    [Theory]
    [InlineData("POST", "/api/groups/")]
    [InlineData("PUT", "/api/groups/1/")]
    [InlineData("PATCH", "/api/groups/1/")]
    [InlineData("DELETE", "/api/groups/1/")]
    [InlineData("POST", "/api/users/")]
    [InlineData("DELETE", "/api/users/1/")]
    [InlineData("POST", "/api/groups/1/")]
    public async Task ReadersCannotWrite(string method, string path)
    {
        var bob = await AsAsync("bob", "bob-password");
        AssertSameAnswer(bob,
            await bob.SendAsync(new HttpMethod(method), path, () => RawHttp.Json("""{"name": "x"}"""), withToken: true), what: path);
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, "http://evil.example")]
    public async Task SignedInWritesNeedTheTokenPairAndAGoodOrigin(bool withToken, string? origin)
    {
        var alice = await AsAsync("alice", "alice-password");
        (string, string)[] headers = origin is null ? [] : [("Origin", origin)];
        AssertSameAnswer(alice,
            await alice.SendAsync(HttpMethod.Post, "/api/groups/", () => RawHttp.Json("""{"name": "x"}"""), withToken, headers));
    }

    [Theory]
    [InlineData("POST", "/api/users/1/")]
    [InlineData("DELETE", "/api/users/")]
    [InlineData("PUT", "/api/")]
    [InlineData("OPTIONS", "/api/users/1/")]
    [InlineData("OPTIONS", "/api/groups/")]
    [InlineData("OPTIONS", "/api/")]
    [InlineData("HEAD", "/api/users/")]
    public async Task MethodsAnswerTheSame(string method, string path)
    {
        var alice = await AsAsync("alice", "alice-password");
        AssertSameAnswer(alice,
            await alice.SendAsync(new HttpMethod(method), path, () => RawHttp.Json("{}"), withToken: true), what: $"{method} {path}");
    }

    [Theory]
    [InlineData("/api/users/", """{}""")]
    [InlineData("/api/users/", """{"username": ""}""")]
    [InlineData("/api/users/", """{"username": "   "}""")]
    [InlineData("/api/users/", """{"username": "alice"}""")]
    [InlineData("/api/users/", """{"username": "bad name!", "email": "notanemail"}""")]
    [InlineData("/api/users/", """{"username": "newbie", "groups": ["http://elsewhere/api/groups/99/"]}""")]
    [InlineData("/api/users/", """{"username": "newbie", "groups": ["nonsense"]}""")]
    [InlineData("/api/users/", """{"username": "newbie", "groups": ["/api/users/1/"]}""")]
    [InlineData("/api/users/", """{"username": "newbie", "groups": "x"}""")]
    [InlineData("/api/users/", """{"username": "newbie", "groups": [5]}""")]
    [InlineData("/api/users/", """{"username": true}""")]
    [InlineData("/api/users/", """{"username": null}""")]
    [InlineData("/api/users/", """[1]""")]
    [InlineData("/api/groups/", """{"name": ""}""")]
    [InlineData("/api/groups/", """{"name": "staff"}""")]
    [InlineData("/api/groups/", """{"name": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"""
        + """xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}""")]
    [InlineData("/api/groups/", """{}""")]
    [InlineData("/api/groups/", """{"name": "a\u0000b"}""")]
    [InlineData("/api/users/", """{"username": "a\u0000b"}""")]
    [InlineData("/api/groups/", "\"just a string\"")]
    [InlineData("/api/groups/", "5")]
    [InlineData("/api/groups/", "null")]
    public async Task ValidationErrorsAreTheSame(string path, string body)
    {
        var alice = await AsAsync("alice", "alice-password");
        AssertSameAnswer(alice, await alice.SendAsync(HttpMethod.Post, path, () => RawHttp.Json(body), withToken: true), what: body);
    }

    /// <summary>
    /// DRF's field rules beyond the common cases: every failing check reported, in DRF's order; hyperlinks resolved as
    /// Django does.
    /// </summary>
    [Theory]
    [InlineData("""{"username": "x1", "email": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"""
        + """aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"""
        + """aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""")]
    [InlineData("""{"username": "x2", "email": "a@b\u0000.com"}""")]
    [InlineData("""{"username": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"""
        + """aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""")]
    [InlineData("""{"username": "a b\u0000"}""")]
    [InlineData("""{"username": "x4", "email": null}""")]
    [InlineData("""{"username": "x5", "email": 5}""")]
    [InlineData("""{"username": "x6", "email": ["a@b.com"]}""")]
    [InlineData("""{"username": "x7", "groups": null}""")]
    [InlineData("""{"username": "x8", "groups": ["/api/groups/1/", 3]}""")]
    [InlineData("""{"username": "x9", "groups": [{"a": 1}]}""")]
    [InlineData("""{"username": "x10", "groups": ["/api/groups/abc/"]}""")]
    [InlineData("""{"username": "x11", "groups": ["/api/groups/99999999999999999999999/"]}""")]
    [InlineData("""{"username": "x12", "groups": [""]}""")]
    [InlineData("""{"username": "x13", "groups": ["/api/groups/1"]}""")]
    [InlineData("""{"username": "x14", "groups": ["/auth/csrf"]}""")]
    [InlineData("""{"username": "x15", "groups": ["/api/"]}""")]
    [InlineData("""{"username": "x16", "groups": ["ftp://x/api/groups/1/"]}""")]
    [InlineData("""{"username": "x17", "groups": ["HTTP://x/api/groups/1/"]}""")]
    [InlineData("""{"username": "x18", "groups": ["/api/groups/-1/"]}""")]
    [InlineData("""{"username": "x19", "groups": ["/api/groups/1/x/"]}""")]
    [InlineData("""{"username": "x20", "groups": ["/api/groups.json"]}""")]
    [InlineData("""{"username": "x21", "groups": true}""")]
    [InlineData("""{"username": "x22", "groups": 5}""")]
    [InlineData("""{"username": "x23", "groups": ["/api/users/1/", "/api/groups/1/"]}""")]
    [InlineData("""{"username": [], "email": {}, "groups": "x"}""")]
    [InlineData("""{"username": "   ", "email": "   "}""")]
    [InlineData("""{"name": 5}""", "/api/groups/")]
    [InlineData("""{"name": false}""", "/api/groups/")]
    [InlineData("""{"name": "  "}""", "/api/groups/")]
    [InlineData("""{"name": null}""", "/api/groups/")]
    public async Task MoreValidationAnswersAreTheSame(string body, string path = "/api/users/")
    {
        var alice = await AsAsync("alice", "alice-password");
        AssertSameAnswer(alice, await alice.SendAsync(HttpMethod.Post, path, () => RawHttp.Json(body), withToken: true), what: body);
    }

    /// <summary>Form bodies (urlencoded), as a browser's form sends them: repeated fields for lists, no field for an empty list.</summary>
    [Theory]
    [InlineData("username=")]
    [InlineData("username=f1&groups=")]
    [InlineData("username=bad+name&email=nope")]
    [InlineData("username=f2&groups=%2Fapi%2Fgroups%2F1%2F&groups=nonsense")]
    public async Task FormValidationAnswersAreTheSame(string form)
    {
        var alice = await AsAsync("alice", "alice-password");
        AssertSameAnswer(alice, await alice.SendAsync(HttpMethod.Post, "/api/users/",
            () => new StringContent(form, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"), withToken: true), what: form);
    }

    /// <summary>
    /// Hyperlinks that Django resolves though they look odd: a dict's keys, escapes, whitespace, leading zeros, a
    /// format suffix, a query.
    /// </summary>
    [Fact]
    public async Task OddButValidHyperlinksAndFormsAreAcceptedAlike()
    {
        var alice = await AsAsync("alice", "alice-password");
        var username = "odd" + Guid.NewGuid().ToString("N")[..8];
        var created = await alice.SendAsync(HttpMethod.Post, "/api/users/",
            () => new StringContent(
                $"username={username}&groups=%2Fapi%2Fgroups%2F2%2F", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
            withToken: true);
        AssertSameAnswer(alice, created, maskIds: true, what: "form create");
        var peerPath = new Uri(created.Peer.Json().GetProperty("url").GetString()!).AbsolutePath;
        var posternPath = new Uri(created.Postern.Json().GetProperty("url").GetString()!).AbsolutePath;
        string[] bodies =
        [
            """{"groups": {"/api/groups/1/": 1}}""",
            """{"groups": ["/api/groups/%31/"]}""",
            """{"groups": ["/api/groups/ 2/"]}""",
            """{"groups": ["/api/groups/01/", "/api/groups/1/"]}""",
            """{"groups": ["/api/groups/1.json"]}""",
            """{"groups": ["http://anywhere.example/api/groups/2/?x=1#y"]}""",
            """{"groups": []}""",
            """{"username": 5.0}""",
            """{"username": 1e100}""",
            """{"username": 12345678901234567890123}""",
        ];
        foreach (var body in bodies)
        {
            var peer = await alice.Servers.PeerClient.SendAsync(HttpMethod.Patch, peerPath, Headers(alice, true), RawHttp.Json(body));
            var postern = await alice.Servers.PosternClient.SendAsync(HttpMethod.Patch, posternPath, Headers(alice, false),
                RawHttp.Json(body));
            AssertSameAnswer(alice, (peer, postern), maskIds: true, what: body);
        }
        var form = "email=form%40example.org";
        AssertSameAnswer(alice, (
            await alice.Servers.PeerClient.SendAsync(HttpMethod.Patch, peerPath, Headers(alice, true),
                new StringContent(form, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")),
            await alice.Servers.PosternClient.SendAsync(HttpMethod.Patch, posternPath, Headers(alice, false),
                new StringContent(form, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"))),
            maskIds: true, what: "form patch");
        AssertSameAnswer(alice, (
            await alice.Servers.PeerClient.SendAsync(HttpMethod.Delete, peerPath, Headers(alice, true)),
            await alice.Servers.PosternClient.SendAsync(HttpMethod.Delete, posternPath, Headers(alice, false))), what: "delete");
    }

    [Fact]
    public async Task BodiesOfOtherTypesAreRefusedAlike()
    {
        var alice = await AsAsync("alice", "alice-password");
        AssertSameAnswer(alice, await alice.SendAsync(HttpMethod.Post, "/api/groups/",
            () => new StringContent("name=x", System.Text.Encoding.UTF8, "text/plain"), withToken: true));
        // Deliberate difference C: the same status and prefix; each parser words the rest its own way.
        var (peer, postern) = await alice.SendAsync(HttpMethod.Post, "/api/groups/", () => RawHttp.Json("{bad"), withToken: true);
        Assert.Equal(peer.Status, postern.Status);
        Assert.StartsWith("JSON parse error - ", peer.Detail, StringComparison.Ordinal);
        Assert.StartsWith("JSON parse error - ", postern.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaffWritesAnswerTheSame()
    {
        var alice = await AsAsync("alice", "alice-password");
        var name = "diff-" + Guid.NewGuid().ToString("N")[..8];
        var created = await alice.SendAsync(HttpMethod.Post, "/api/groups/",
            () => RawHttp.Json($$"""{"name": "{{name}}"}"""), withToken: true);
        AssertSameAnswer(alice, created, maskIds: true, what: "create");
        Assert.Equal(HttpStatusCode.Created, created.Postern.Status);
        Assert.Equal(created.Peer.Json().GetProperty("url").GetString(), created.Peer.Headers.Location?.ToString());
        Assert.Equal(created.Postern.Json().GetProperty("url").GetString(), created.Postern.Headers.Location?.ToString());
        string PathOf(RawResponse r) => new Uri(r.Json().GetProperty("url").GetString()!).AbsolutePath;

        // The same writes, each to its own server's new group.
        async Task<(RawResponse, RawResponse)> OnEachAsync(HttpMethod method, string? json)
        {
            var peer = await alice.Servers.PeerClient.SendAsync(method, PathOf(created.Peer), Headers(alice, true),
                json is null ? null : RawHttp.Json(json));
            var postern = await alice.Servers.PosternClient.SendAsync(method, PathOf(created.Postern), Headers(alice, false),
                json is null ? null : RawHttp.Json(json));
            return (peer, postern);
        }

        AssertSameAnswer(alice, await OnEachAsync(HttpMethod.Put, $$"""{"name": "{{name}}-renamed"}"""), maskIds: true, what: "put");
        AssertSameAnswer(alice, await OnEachAsync(HttpMethod.Patch, """{}"""), maskIds: true, what: "patch");
        AssertSameAnswer(alice, await OnEachAsync(HttpMethod.Put, """{}"""), maskIds: true, what: "put without name");
        AssertSameAnswer(alice, await OnEachAsync(HttpMethod.Delete, null), maskIds: true, what: "delete");
        AssertSameAnswer(alice, await OnEachAsync(HttpMethod.Get, null), maskIds: true, what: "get after delete");
    }

    [Fact]
    public async Task StaffCreateAndEditUsersAlike()
    {
        var alice = await AsAsync("alice", "alice-password");
        var username = "diff" + Guid.NewGuid().ToString("N")[..8];
        var created = await alice.SendAsync(HttpMethod.Post, "/api/users/",
            () => RawHttp.Json(
                $$"""{"username": " {{username}} ", "email": "d@example.org", "groups": ["/api/groups/2/"], "is_staff": true}"""),
            withToken: true);
        AssertSameAnswer(alice, created, maskIds: true, what: "create user");
        var peerPath = new Uri(created.Peer.Json().GetProperty("url").GetString()!).AbsolutePath;
        var posternPath = new Uri(created.Postern.Json().GetProperty("url").GetString()!).AbsolutePath;
        foreach (var (method, json) in new[]
        {
            ("PATCH", """{"groups": ["/api/groups/1/", "/api/groups/2/"]}"""),
            ("PUT", $$"""{"username": "{{username}}x"}"""),
            ("PATCH", """{"username": "alice"}"""),
            ("DELETE", ""),
        })
        {
            var peer = await alice.Servers.PeerClient.SendAsync(new HttpMethod(method), peerPath, Headers(alice, true),
                json.Length == 0 ? null : RawHttp.Json(json));
            var postern = await alice.Servers.PosternClient.SendAsync(new HttpMethod(method), posternPath, Headers(alice, false),
                json.Length == 0 ? null : RawHttp.Json(json));
            AssertSameAnswer(alice, (peer, postern), maskIds: true, what: $"{method} {json}");
        }
    }

    private static (string, string)[] Headers(ApiClientPair clients, bool peer) => clients.HeadersFor(peer);
}
