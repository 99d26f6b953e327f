using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The browsable pages over plain HTTP: hostile data stays text in the forms as in the JSON view, the forms follow the field
/// declarations and the user's permissions, and every HTML page carries its anti-framing and Content-Security-Policy headers,
/// with each inline style and script allowed by its hash and nothing allowed 'unsafe-inline'.
/// </summary>
public sealed partial class BrowsablePageTests(BrowsablePageTests.ThreePagesOfUsers fixture)
    : IClassFixture<BrowsablePageTests.ThreePagesOfUsers>
{
    /// <summary>A server of its own, with the reference backend's 27 users (three pages), and the hostile group made here.</summary>
    public sealed class ThreePagesOfUsers : IAsyncLifetime
    {
        public PosternTestServer Server { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Server = await PosternTestServer.StartAsync();
            await Server.SeedLikeDjangoPeerAsync(extraUsers: 25);
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    private const string Hostile = "<script>alert(1)</script>";
    private const string HostileEscaped = "&lt;script&gt;alert(1)&lt;/script&gt;";

    private readonly PosternTestServer _server = fixture.Server;
    private string Base => _server.BaseAddress.GetLeftPart(UriPartial.Authority);

    private async Task<Visitor> SignedInAsync(string username = "alice", string password = "alice-password")
    {
        var visitor = new Visitor(_server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, password)).Status);
        return visitor;
    }

    private static Task<RawResponse> HtmlAsync(Visitor visitor, string path) => visitor.GetAsync(path, ("Accept", "text/html"));

    /// <summary>The hostile group is created once for the class (its name is unique); each test that needs it asks for it.</summary>
    private async Task<string> HostileGroupUrlAsync(Visitor alice)
    {
        var existing = await _server.Groups.FindGroupByNameAsync(Hostile);
        if (existing is not null)
            return $"{Base}/api/groups/{existing.Id}/";
        var created = await alice.SendAsync(HttpMethod.Post, "/api/groups/", RawHttp.Json($$"""{"name": "{{Hostile}}"}"""),
            ("X-CSRFToken", alice.CsrfCookie!));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return created.Json().GetProperty("url").GetString()!;
    }

    [Fact]
    public async Task AHostileGroupNameIsEscapedInTheFormOptionsAndTheJsonView()
    {
        var alice = await SignedInAsync();
        var groupUrl = await HostileGroupUrlAsync(alice);

        // The users' POST form offers every group by name: the hostile one as text.
        var list = await HtmlAsync(alice, "/api/users/");
        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.DoesNotContain(Hostile, list.Body, StringComparison.Ordinal);
        Assert.Contains($"<option value=\"{groupUrl}\">{HostileEscaped}</option>", list.Body, StringComparison.Ordinal);

        // The group's own page: the name in the JSON view, in the PUT form's input and in the raw form's content.
        var group = await HtmlAsync(alice, groupUrl);
        Assert.DoesNotContain(Hostile, group.Body, StringComparison.Ordinal);
        var response = Regex.Match(group.Body, "<pre class=\"response\" id=\"response\">(.*?)</pre>", RegexOptions.Singleline)
            .Groups[1].Value;
        Assert.Contains($"&quot;{HostileEscaped}&quot;", response, StringComparison.Ordinal);
        Assert.Contains($"id=\"PUT-name\" name=\"name\"", group.Body, StringComparison.Ordinal);
        Assert.Matches($"<input type=\"text\" id=\"PUT-name\"[^>]* value=\"{Regex.Escape(HostileEscaped)}\"", group.Body);
        Assert.Contains($"&quot;name&quot;: &quot;{HostileEscaped}&quot;", group.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheFormsFollowTheFieldDeclarationsAndThePutFormStartsFromTheObject()
    {
        var alice = await SignedInAsync();
        var page = await HtmlAsync(alice, "/api/users/2/");
        var body = page.Body;
        // One input per writable field, by its kind, each with its label; the read-only url has none.
        Assert.Contains("<label for=\"PUT-username\">Username<span class=\"required\" aria-hidden=\"true\">*</span></label>", body,
            StringComparison.Ordinal);
        Assert.Matches("<input type=\"text\" id=\"PUT-username\"[^>]* required value=\"bob\"[^>]* maxlength=\"150\">", body);
        Assert.Matches("<input type=\"email\" id=\"PUT-email\"[^>]* value=\"bob@example.org\"", body);
        Assert.Contains("<label for=\"PUT-email\">Email address</label>", body, StringComparison.Ordinal);
        Assert.Contains("<select multiple id=\"PUT-groups\" name=\"groups\"", body, StringComparison.Ordinal);
        Assert.Contains($"<option value=\"{Base}/api/groups/2/\" selected>readers</option>", body, StringComparison.Ordinal);
        Assert.Contains($"<option value=\"{Base}/api/groups/1/\">staff</option>", body, StringComparison.Ordinal);
        Assert.Contains("The groups this user belongs to.", body, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"PUT-url\"", body, StringComparison.Ordinal);
        // The raw form holds the writable fields with the object's values, and sends PUT or PATCH.
        Assert.Contains("&quot;username&quot;: &quot;bob&quot;", body, StringComparison.Ordinal);
        Assert.Contains("id=\"submit-PUT\"", body, StringComparison.Ordinal);
        Assert.Contains("id=\"submit-PATCH\"", body, StringComparison.Ordinal);
        Assert.Contains("Are you sure you want to delete this User Instance?", body, StringComparison.Ordinal);

        // The list's POST form starts empty.
        var list = (await HtmlAsync(alice, "/api/users/")).Body;
        Assert.Matches("<input type=\"text\" id=\"POST-username\"[^>]* value=\"\"", list);
        Assert.Contains("&quot;groups&quot;: []", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyThoseAllowedToWriteGetTheWriteForms()
    {
        var bob = await SignedInAsync("bob", "bob-password");
        foreach (var path in (string[])["/api/users/", "/api/users/1/", "/api/groups/", "/api/groups/1/"])
        {
            var page = await HtmlAsync(bob, path);
            Assert.Equal(HttpStatusCode.OK, page.Status);
            Assert.DoesNotContain("class=\"write", page.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("<dialog", page.Body, StringComparison.Ordinal);
            Assert.Contains("id=\"options-button\"", page.Body, StringComparison.Ordinal);
        }
        // Bob may end his own sessions: DELETE on his session, POST on revoke-others.
        var own = (await bob.GetAsync("/api/sessions/")).Json().GetProperty("results")[0].GetProperty("url").GetString()!;
        Assert.Contains("id=\"confirm-DELETE\"", (await HtmlAsync(bob, own)).Body, StringComparison.Ordinal);
        Assert.Contains("id=\"submit-POST\"", (await HtmlAsync(bob, "/api/sessions/revoke-others/")).Body, StringComparison.Ordinal);

        var anonymous = new Visitor(_server.CreateRawClient());
        var refused = await HtmlAsync(anonymous, "/api/users/");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Contains("id=\"login\" href=\"/api-auth/login/?next=%2Fapi%2Fusers%2F\"", refused.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"write", refused.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListsLinkTheirPagesFormatsAndTheDocs()
    {
        var alice = await SignedInAsync();
        var page = (await HtmlAsync(alice, "/api/users/?page=2")).Body;
        Assert.Contains($"<a rel=\"prev\" aria-label=\"Previous\" href=\"{Base}/api/users/\">«</a>", page, StringComparison.Ordinal);
        Assert.Contains($"<a aria-current=\"page\" href=\"{Base}/api/users/?page=2\">2</a>", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"{Base}/api/users/?format=json&amp;page=2\"", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"{Base}/api/users/?format=api&amp;page=2\"", page, StringComparison.Ordinal);
        Assert.Contains("id=\"docs-link\" href=\"/api/docs/\"", page, StringComparison.Ordinal);
        Assert.Contains("<b>Allow:</b> <span class=\"lit\">GET, POST, HEAD, OPTIONS</span>", page, StringComparison.Ordinal);
        Assert.Contains("<b>Content-Type:</b> <span class=\"lit\">application/json</span>", page, StringComparison.Ordinal);
    }

    [Fact]
    public void ThePageNumbersAreDrfs()
    {
        Assert.Equal(new int?[] { 1, 2, 3 }, Browsable.PageLinks.DisplayedPageNumbers(2, 3));
        Assert.Equal(new int?[] { 1, 2, 3, 4, 5, null, 9 }, Browsable.PageLinks.DisplayedPageNumbers(4, 9));
        Assert.Equal(new int?[] { 1, null, 4, 5, 6, null, 9 }, Browsable.PageLinks.DisplayedPageNumbers(5, 9));
        Assert.Equal(new int?[] { 1, null, 5, 6, 7, 8, 9 }, Browsable.PageLinks.DisplayedPageNumbers(6, 9));
    }

    [Theory]
    [InlineData("/api/", "alice")]
    [InlineData("/api/users/1/", "alice")]
    [InlineData("/api/users/", null)]
    [InlineData("/api-auth/login/?next=/api/users/", null)]
    public async Task HtmlPagesRefuseFramingAndRunOnlyTheirOwnStyleAndScript(string path, string? username)
    {
        var visitor = username is null ? new Visitor(_server.CreateRawClient()) : await SignedInAsync(username, username + "-password");
        var page = await HtmlAsync(visitor, path);
        Assert.Equal("text/html; charset=utf-8", page.ContentType);
        Assert.Equal("DENY", page.Header("X-Frame-Options"));
        var policy = page.Header("Content-Security-Policy")!;
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        // Every inline style and (executable) script is allowed by its hash; there are no style or event attributes.
        foreach (Match inline in InlineStyleOrScript().Matches(page.Body))
        {
            var hash = "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline.Groups["content"].Value))) + "'";
            Assert.Contains($"{inline.Groups["tag"].Value}-src {hash}", policy, StringComparison.Ordinal);
        }
        Assert.DoesNotMatch(" (style|on[a-z]+)=\"", page.Body);
    }

    [Fact]
    public async Task JsonAnswersCarryNoPagePolicy()
    {
        // Django's reference backend sends neither on JSON; the comparison tests hold Postern to that.
        var json = await (await SignedInAsync()).GetAsync("/api/users/");
        Assert.Null(json.Header("X-Frame-Options"));
        Assert.Null(json.Header("Content-Security-Policy"));
    }

    [GeneratedRegex("<(?<tag>style|script)>(?<content>.*?)</(style|script)>", RegexOptions.Singleline)]
    private static partial Regex InlineStyleOrScript();
}
