using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Server.Api;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// DRF's AnonRateThrottle and UserRateThrottle for the whole API (Postern:Throttling:ApiAnonRate, ApiUserRate), on real
/// servers whose clock the test moves: off unless set; counted after authentication and permissions, before the method;
/// anonymous requests per address, signed-in ones per user whether by session or token; DRF's 429 body and Retry-After;
/// the 429 in the OpenAPI document only when a rate is set.
/// </summary>
public sealed class ApiThrottleTests
{
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed record Notice(long Id);

    private sealed class NoNotices : ResourceStore<Notice>
    {
        public override Task<long> CountAsync(ApiRequest request) => Task.FromResult(0L);

        public override Task<IReadOnlyList<Notice>> ListAsync(ApiRequest request, int offset, int limit) =>
            Task.FromResult<IReadOnlyList<Notice>>([]);
    }

    /// <summary>Every built-in resource asks for a signed-in user; the anon rate needs a view anyone may ask.</summary>
    private static readonly Resource<Notice> PublicNotices = new()
    {
        Name = "Notice",
        Path = "notices",
        Description = "Public notices, declared for this test: anyone may read them.",
        Fields = [new UrlField<Notice>()],
        Permissions = [ApiPermissions.AllowAny],
        Operations = Operations.List,
        Store = new NoNotices(),
        IdOf = notice => notice.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private const string Notices = "/api/notices/";
    private const string Password = "pw-12345678";

    private static Task<PosternTestServer> StartAsync(ManualClock clock, string? anonRate = null, string? userRate = null,
        bool enabled = true, string? databasePath = null) =>
        PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Throttling:Enabled"] = enabled ? "true" : "false",
            ["Postern:Throttling:ApiAnonRate"] = anonRate,
            ["Postern:Throttling:ApiUserRate"] = userRate,
        }, databasePath: databasePath, services: s =>
        {
            s.AddSingleton<TimeProvider>(clock);
            s.AddApiResource(PublicNotices);
        });

    /// <summary>The start of a minute: a rate per minute then counts a whole window, and Retry-After is exact.</summary>
    private static ManualClock AtMinuteStart()
    {
        var minute = TimeSpan.FromMinutes(1).Ticks;
        return new ManualClock(new DateTimeOffset(DateTimeOffset.UtcNow.UtcTicks / minute * minute, TimeSpan.Zero));
    }

    private static async Task<Visitor> SignedInAsync(PosternTestServer server, string username)
    {
        await server.CreateUserAsync(username, Password);
        var visitor = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, Password)).Status);
        return visitor;
    }

    private static void AssertThrottled(RawResponse response, int seconds)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.Status);
        Assert.Equal(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Header("Retry-After"));
        var unit = seconds == 1 ? "second" : "seconds";
        Assert.Equal($$"""{"detail":"Request was throttled. Expected available in {{seconds}} {{unit}}."}""", response.Body);
    }

    [Fact]
    public async Task OffByDefault()
    {
        await using var server = await StartAsync(AtMinuteStart());
        var alice = await SignedInAsync(server, "alice");
        var anonymous = server.CreateRawClient();
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/api/")).Status);
            Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(HttpMethod.Get, Notices)).Status);
        }
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(HttpMethod.Get, "/api/schema/")).Status);
    }

    [Fact]
    public async Task TheAnonRateThrottlesAnAddressAfterPermissionsAndBeforeTheMethod()
    {
        var clock = AtMinuteStart();
        await using var server = await StartAsync(clock, anonRate: "3/min");
        var anonymous = server.CreateRawClient();

        // Refused by a permission (every built-in resource needs a user): not counted, as DRF checks permissions first.
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.SendAsync(HttpMethod.Get, "/api/users/")).Status);
        // An unknown format is refused by content negotiation, earlier still.
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.SendAsync(HttpMethod.Get, Notices + "?format=xml")).Status);

        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(HttpMethod.Get, Notices)).Status);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(HttpMethod.Options, Notices)).Status);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(HttpMethod.Get, "/api/schema/")).Status);

        AssertThrottled(await anonymous.SendAsync(HttpMethod.Get, Notices), 60);
        AssertThrottled(await anonymous.SendAsync(HttpMethod.Options, Notices), 60);
        AssertThrottled(await anonymous.SendAsync(HttpMethod.Get, "/api/schema/"), 60);
        // The throttle answers before the method: a POST to a list that takes none is 429, not 405.
        AssertThrottled(await anonymous.SendAsync(HttpMethod.Post, Notices, content: RawHttp.Json("{}")), 60);
        // A permission still refuses first.
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.SendAsync(HttpMethod.Get, "/api/users/")).Status);

        // Another address has its own count; a signed-in user is not counted by the anon rate at all.
        var elsewhere = RawHttp.CreateClientFrom(server.BaseAddress, IPAddress.Parse("127.0.0.2"));
        Assert.Equal(HttpStatusCode.OK, (await elsewhere.SendAsync(HttpMethod.Get, Notices)).Status);
        var alice = await SignedInAsync(server, "alice");
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync(Notices)).Status);

        // The browsable page shows the same answer as its other errors.
        var page = await anonymous.SendAsync(HttpMethod.Get, Notices + "?format=api");
        Assert.Equal(HttpStatusCode.TooManyRequests, page.Status);
        Assert.Equal("60", page.Header("Retry-After"));
        Assert.StartsWith("text/html", page.ContentType, StringComparison.Ordinal);
        Assert.Contains("<b>HTTP 429 Too Many Requests</b>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<b>Retry-After:</b> <span class=\"lit\">60</span>", page.Body, StringComparison.Ordinal);
        Assert.Contains("Request was throttled. Expected available in 60 seconds.", page.Body, StringComparison.Ordinal);

        // DRF's singular, then the next window.
        clock.Now += TimeSpan.FromSeconds(59.5);
        AssertThrottled(await anonymous.SendAsync(HttpMethod.Get, Notices), 1);
        clock.Now += TimeSpan.FromSeconds(0.5);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(HttpMethod.Get, Notices)).Status);
    }

    [Fact]
    public async Task TheUserRateCountsEachUserWhetherBySessionOrTokenAndAnonymousRequestsByAddress()
    {
        var clock = AtMinuteStart();
        await using var server = await StartAsync(clock, userRate: "5/minute");
        var alice = await SignedInAsync(server, "alice");
        var bob = await SignedInAsync(server, "bob");

        // Alice's token is made through the API, which counts as her first request.
        var created = await alice.PostWithTokenAsync(ApiToken.ListPath, RawHttp.Json("""{"name": "script"}"""));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var byToken = server.CreateRawClient();
        (string, string)[] token = [("Authorization", ApiToken.HeaderValue(created.Json().GetProperty("key").GetString()!))];
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/api/")).Status);
            Assert.Equal(HttpStatusCode.OK, (await byToken.SendAsync(HttpMethod.Get, "/api/", token)).Status);
        }
        AssertThrottled(await alice.GetAsync("/api/"), 60);
        AssertThrottled(await byToken.SendAsync(HttpMethod.Get, "/api/users/", token), 60);

        // Bob, and anonymous requests from the same address (counted by the address, under the same rate), are apart.
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("/api/")).Status);
        var anonymous = server.CreateRawClient();
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(HttpMethod.Get, Notices)).Status);
        AssertThrottled(await anonymous.SendAsync(HttpMethod.Get, Notices), 60);

        clock.Now += TimeSpan.FromMinutes(1);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/api/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await byToken.SendAsync(HttpMethod.Get, "/api/", token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(HttpMethod.Get, Notices)).Status);
    }

    /// <summary>Unlike DRF's default cache (each process its own), the counts are the shared store's.</summary>
    [Fact]
    public async Task TwoInstancesOnOneDatabaseCountAsOne()
    {
        var clock = AtMinuteStart();
        await using var first = await StartAsync(clock, anonRate: "3/m");
        await using var second = await StartAsync(clock, anonRate: "3/m", databasePath: first.DatabasePath);
        var (toFirst, toSecond) = (first.CreateRawClient(), second.CreateRawClient());
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await (i % 2 == 0 ? toFirst : toSecond).SendAsync(HttpMethod.Get, Notices)).Status);
        AssertThrottled(await toFirst.SendAsync(HttpMethod.Get, Notices), 60);
        AssertThrottled(await toSecond.SendAsync(HttpMethod.Get, Notices), 60);
    }

    /// <summary>With the counters in Redis, an API request while Redis is down is a 503, as a login is: never let through uncounted.</summary>
    [Fact]
    public async Task WithTheCountersInRedisARequestWhileRedisIsDownIs503()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Throttling:Enabled"] = "true",
            ["Postern:Throttling:ApiAnonRate"] = "100/m",
            ["Postern:Redis:Configuration"] = redis.Configuration,
        }, services: s => s.AddApiResource(PublicNotices));
        var anonymous = server.CreateRawClient();
        // The first count may wait for the connection on a busy machine (the client's 1 s timeout is for a running Redis).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode status;
        while ((status = (await anonymous.SendAsync(HttpMethod.Get, Notices)).Status) == HttpStatusCode.ServiceUnavailable
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.Equal(HttpStatusCode.OK, status);

        await redis.StopAsync();
        var refused = await anonymous.SendAsync(HttpMethod.Get, Notices);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Equal("1", refused.Header("Retry-After"));
        Assert.Equal("Service temporarily unavailable, try again shortly.", refused.Detail);
    }

    [Fact]
    public async Task TheOpenApiDocumentShowsThe429OnlyWhenARateIsSet()
    {
        static async Task<string> DocumentAsync(PosternTestServer server)
        {
            var response = await server.CreateRawClient().SendAsync(HttpMethod.Get, "/api/schema/");
            Assert.Equal(HttpStatusCode.OK, response.Status);
            return response.Body;
        }

        await using var throttled = await StartAsync(AtMinuteStart(), anonRate: "100/day", userRate: "1000/day");
        var text = await DocumentAsync(throttled);
        var file = Path.Combine(throttled.Folder, "openapi-throttled.json");
        await File.WriteAllTextAsync(file, text);
        var lint = await RedoclyLint.LintAsync(file);
        Assert.True(lint.ExitCode == 0, $"Redocly found problems in the document:\n{lint}");
        var document = JsonDocument.Parse(text).RootElement;
        var paths = document.GetProperty("paths");
        foreach (var (path, method) in new[]
            { ("/api/", "get"), ("/api/users/", "post"), ("/api/users/{id}/", "delete"), (Notices, "get"), ("/api/schema/", "get") })
        {
            var answer = paths.GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty("429");
            Assert.Equal("#/components/responses/ApiThrottled", answer.GetProperty("$ref").GetString());
        }
        var component = document.GetProperty("components").GetProperty("responses").GetProperty("ApiThrottled");
        Assert.Contains("100/day per client address", component.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("1000/day per user", component.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(component.GetProperty("headers").TryGetProperty("Retry-After", out _));
        // The login paths keep their own throttle's answer.
        Assert.Equal("#/components/responses/Throttled",
            paths.GetProperty("/auth/login").GetProperty("post").GetProperty("responses").GetProperty("429").GetProperty("$ref").GetString());

        // Off (no rate; or rates set while throttling is off): no trace of it, the same document either way.
        await using var unthrottled = await StartAsync(AtMinuteStart());
        await using var disabled = await StartAsync(AtMinuteStart(), anonRate: "100/day", userRate: "1000/day", enabled: false);
        var plain = await DocumentAsync(unthrottled);
        Assert.DoesNotContain("ApiThrottled", plain, StringComparison.Ordinal);
        Assert.False(JsonDocument.Parse(plain).RootElement.GetProperty("paths").GetProperty("/api/").GetProperty("get")
            .GetProperty("responses").TryGetProperty("429", out _));
        Assert.Equal(plain, await DocumentAsync(disabled));
    }

    [Fact]
    public async Task AMistypedRateStopsTheServerAtStart()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            PosternTestServer.StartAsync(new Dictionary<string, string?>
            {
                ["Postern:Throttling:ApiAnonRate"] = "100 a day",
                ["Postern:Throttling:ApiUserRate"] = "1000/fortnight",
            }));
        Assert.Contains("Postern:Throttling:ApiAnonRate: '100 a day' is not a rate", error.Message, StringComparison.Ordinal);
        Assert.Contains("Postern:Throttling:ApiUserRate: '1000/fortnight' is not a rate", error.Message, StringComparison.Ordinal);
    }
}
