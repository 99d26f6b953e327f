using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// Postern:Throttling on real servers whose clock the test moves: an account locks after 5 failures, for a minute doubling
/// up to an hour, the same for an unknown username; an address that fails more than 30 times a minute is throttled; two
/// instances on one database throttle as one.
/// </summary>
public sealed class ThrottlingTests
{
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static Task<PosternTestServer> StartAsync(ManualClock clock, string? databasePath = null) =>
        PosternTestServer.StartAsync(new Dictionary<string, string?> { ["Postern:Throttling:Enabled"] = "true" },
            databasePath: databasePath, services: s => s.AddSingleton<TimeProvider>(clock));

    private static async Task<RawResponse> LoginAsync(PosternTestServer server, string username, string password)
    {
        var visitor = new Visitor(server.CreateRawClient());
        return await visitor.LoginAsync(username, password);
    }

    private static void AssertThrottled(RawResponse response, int seconds)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.Status);
        Assert.Equal(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Header("Retry-After"));
        Assert.Equal($"Request was throttled. Expected available in {seconds} seconds.", response.Detail);
        Assert.Null(response.Cookie(CookieNames.Session));
    }

    [Fact]
    public async Task FiveFailuresLockTheAccountForAMinuteDoublingAndASuccessClearsTheCount()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        await server.CreateUserAsync("alice", "alice-password");

        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server, "alice", "wrong")).Status);
        // Locked: even the right password is not looked at.
        AssertThrottled(await LoginAsync(server, "alice", "alice-password"), 60);
        clock.Now += TimeSpan.FromSeconds(45);
        AssertThrottled(await LoginAsync(server, "alice", "wrong"), 15);

        // Once the lock ends, a further failure locks for twice as long.
        clock.Now += TimeSpan.FromSeconds(16);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server, "alice", "wrong")).Status);
        AssertThrottled(await LoginAsync(server, "alice", "alice-password"), 120);

        // The right password after the lock signs in and clears the count: four failures lock nothing.
        clock.Now += TimeSpan.FromSeconds(121);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(server, "alice", "alice-password")).Status);
        for (var i = 0; i < 4; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server, "alice", "wrong")).Status);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(server, "alice", "alice-password")).Status);
    }

    [Fact]
    public async Task TheLockGrowsToAnHourAndTheCountStartsAgainAfterAQuietWindow()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        await server.CreateUserAsync("alice", "alice-password");
        for (var i = 0; i < 5; i++)
            await LoginAsync(server, "alice", "wrong");
        foreach (var seconds in (int[])[60, 120, 240, 480, 960, 1920, 3600, 3600])
        {
            AssertThrottled(await LoginAsync(server, "alice", "wrong"), seconds);
            clock.Now += TimeSpan.FromSeconds(seconds + 1);
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server, "alice", "wrong")).Status);
        }
        // Quiet for a whole window (15 minutes) after the last lock: five more failures are needed again.
        clock.Now += TimeSpan.FromSeconds(3600 + 901);
        for (var i = 0; i < 4; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server, "alice", "wrong")).Status);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(server, "alice", "alice-password")).Status);
    }

    /// <summary>A lock says nothing of whether the account exists: the same answer, as soon, for a name nobody has.</summary>
    [Fact]
    public async Task AnUnknownUsernameLocksAlike()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server, "nobody-at-all", "wrong")).Status);
        AssertThrottled(await LoginAsync(server, "nobody-at-all", "wrong"), 60);
    }

    [Fact]
    public async Task MoreThanThirtyFailuresAMinuteFromOneAddressThrottleIt()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        await server.CreateUserAsync("alice", "alice-password");
        // Spraying: a different name each time, so no account locks.
        for (var i = 0; i < 31; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server, $"sprayed{i}", "Winter2026!")).Status);
        AssertThrottled(await LoginAsync(server, "alice", "alice-password"), 60);
        clock.Now += TimeSpan.FromSeconds(61);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(server, "alice", "alice-password")).Status);
    }

    [Fact]
    public async Task TwoInstancesOnOneDatabaseThrottleAsOne()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var first = await StartAsync(clock);
        await using var second = await StartAsync(clock, first.DatabasePath);
        await first.CreateUserAsync("alice", "alice-password");
        for (var i = 0; i < 5; i++)
            await LoginAsync(i % 2 == 0 ? first : second, "alice", "wrong");
        AssertThrottled(await LoginAsync(first, "alice", "alice-password"), 60);
        AssertThrottled(await LoginAsync(second, "alice", "alice-password"), 60);
    }

    /// <summary>
    /// What a guesser can time: a locked account answers before any hash, so never slower than a wrong password; an unknown
    /// user costs a hash as a wrong password does. Medians of many samples in alternating order, with bounds no loaded
    /// machine can break; the precise figures are the benchmark's (bench/run.sh --only login-timing).
    /// </summary>
    [Fact]
    public async Task ALockedLoginIsNoSlowerThanAWrongPasswordAndAnUnknownUserTakesAsLongAsOne()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Throttling:Enabled"] = "true",
            // A hash of tens of milliseconds: what a refused login costs, rather than the noise around it.
            ["Postern:Accounts:PasswordIterations"] = "100000",
        }, services: s => s.AddSingleton<TimeProvider>(clock));
        string[] wrongPasswordUsers = ["timed0", "timed1", "timed2"];
        foreach (var username in wrongPasswordUsers.Append("locked"))
            await server.CreateUserAsync(username, "right-password");
        for (var i = 0; i < 5; i++)
            await LoginAsync(server, "locked", "wrong");

        // One visitor, one token pair (a refused login keeps it). 1 + 9 rounds: 10 wrong passwords over three users lock
        // none, and with the 5 above and 10 unknown users the address stays under its 30 a minute.
        var visitor = new Visitor(server.CreateRawClient());
        await visitor.GetAsync(EndpointPaths.Csrf);
        string[] kinds = ["wrong password", "unknown user", "locked"];
        var times = kinds.ToDictionary(kind => kind, _ => new List<double>());
        for (var round = 0; round < 10; round++)
        {
            for (var k = 0; k < kinds.Length; k++)
            {
                var kind = kinds[(round + k) % kinds.Length];
                var (username, password, expected) = kind switch
                {
                    "wrong password" => (wrongPasswordUsers[round % wrongPasswordUsers.Length], "wrong", HttpStatusCode.Unauthorized),
                    "unknown user" => ("nobody-" + round, "wrong", HttpStatusCode.Unauthorized),
                    _ => ("locked", "right-password", HttpStatusCode.TooManyRequests),
                };
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var response = await visitor.PostWithTokenAsync(EndpointPaths.Login,
                    RawHttp.Json($$"""{"username": "{{username}}", "password": "{{password}}"}"""));
                watch.Stop();
                Assert.Equal(expected, response.Status);
                if (round > 0) // the first round warms up
                    times[kind].Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        double Median(string kind) => times[kind].Order().ElementAt(times[kind].Count / 2);
        var (wrong, unknown, locked) = (Median("wrong password"), Median("unknown user"), Median("locked"));
        var medians = $"medians: wrong password {wrong:0.0} ms, unknown user {unknown:0.0} ms, locked {locked:0.0} ms";
        Assert.True(locked <= wrong, medians);
        Assert.True(unknown <= 3 * wrong && wrong <= 3 * unknown, medians);
    }

    /// <summary>
    /// With the counters in Redis, a Redis that does not answer makes a login a 503 (never a 500, never a login past the
    /// throttle), and logins go on once it is back, in the same process.
    /// </summary>
    [Fact]
    public async Task WithTheCountersInRedisALoginWhileRedisIsDownIs503ThenGoesOn()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Throttling:Enabled"] = "true",
            ["Postern:Redis:Configuration"] = redis.Configuration,
        });
        await server.CreateUserAsync("alice", "alice-password");
        Assert.IsType<Storage.RedisThrottleStore>(server.Services.GetRequiredService<Storage.IThrottleStore>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server, "alice", "wrong")).Status);

        await redis.StopAsync();
        var refused = await LoginAsync(server, "alice", "alice-password");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Equal("1", refused.Header("Retry-After"));
        Assert.Equal("Service temporarily unavailable, try again shortly.", refused.Detail);
        Assert.Null(refused.Cookie(CookieNames.Session));

        await redis.StartAgainAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpStatusCode status;
        while ((status = (await LoginAsync(server, "alice", "alice-password")).Status) == HttpStatusCode.ServiceUnavailable
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Theory]
    [InlineData("5/m", 5, 60)]
    [InlineData("20/min", 20, 60)]
    [InlineData("100/h", 100, 3600)]
    [InlineData("1/day", 1, 86400)]
    [InlineData("10/s", 10, 1)]
    [InlineData("1/3m", 1, 180)]
    public void RatesReadAsDrfAndAllauthWriteThem(string text, int count, int seconds)
    {
        Assert.True(Throttling.Rate.TryParse(text, out var rate));
        Assert.Equal((count, TimeSpan.FromSeconds(seconds)), (rate.Count, rate.Per));
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("0/m")]
    [InlineData("x/m")]
    [InlineData("5/x")]
    [InlineData("5/0m")]
    [InlineData("5/3")]
    public void OtherRatesDoNot(string text) => Assert.False(Throttling.Rate.TryParse(text, out _));

    [Fact]
    public async Task AMistypedRateStopsTheServerAtStart()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            PosternTestServer.StartAsync(new Dictionary<string, string?>
            {
                ["Postern:Throttling:Rates:password_reset_email"] = "five a minute",
                ["Postern:Throttling:Rates:password_reset_mail"] = "5/m",
            }));
        Assert.Contains("Postern:Throttling:Rates:password_reset_email: 'five a minute' is not a rate", error.Message, StringComparison.Ordinal);
        Assert.Contains("Postern:Throttling:Rates:password_reset_mail: no such rate", error.Message, StringComparison.Ordinal);
    }

    /// <summary>django-allauth's defaults: 5 reset e-mails a minute per address asked for, the same whether or not anyone has it.</summary>
    [Fact]
    public async Task ResetRequestsAreLimitedPerEmailAddressWithoutSayingWhetherItExists()
    {
        var clock = new ManualClock(MinuteStart());
        await using var server = await StartAsync(clock);
        await server.CreateUserAsync("alice", "alice-password", email: "alice@example.org");
        foreach (var address in (string[])["alice@example.org", "nobody@example.org"])
        {
            var visitor = new Visitor(server.CreateRawClient());
            await visitor.GetAsync(EndpointPaths.Csrf);
            for (var i = 0; i < 5; i++)
                Assert.Equal(HttpStatusCode.OK, (await visitor.PostWithTokenAsync(EndpointPaths.PasswordReset, Email(address))).Status);
            // Another case of the same address is the same address.
            AssertThrottled(await visitor.PostWithTokenAsync(EndpointPaths.PasswordReset, Email(address.ToUpperInvariant())), 60);
        }
        var other = new Visitor(server.CreateRawClient());
        await other.GetAsync(EndpointPaths.Csrf);
        Assert.Equal(HttpStatusCode.OK, (await other.PostWithTokenAsync(EndpointPaths.PasswordReset, Email("carol@example.org"))).Status);
        clock.Now += TimeSpan.FromSeconds(60);
        Assert.Equal(HttpStatusCode.OK, (await other.PostWithTokenAsync(EndpointPaths.PasswordReset, Email("alice@example.org"))).Status);
    }

    [Fact]
    public async Task AVerificationEmailIsResentOnceEveryThreeMinutes()
    {
        var clock = new ManualClock(MinuteStart(3));
        await using var server = await StartAsync(clock);
        var visitor = new Visitor(server.CreateRawClient());
        await visitor.GetAsync(EndpointPaths.Csrf);
        Assert.Equal(HttpStatusCode.OK,
            (await visitor.PostWithTokenAsync(EndpointPaths.EmailVerifyResend, Email("someone@example.org"))).Status);
        clock.Now += TimeSpan.FromSeconds(100);
        AssertThrottled(await visitor.PostWithTokenAsync(EndpointPaths.EmailVerifyResend, Email("someone@example.org")), 80);
        clock.Now += TimeSpan.FromSeconds(80);
        Assert.Equal(HttpStatusCode.OK,
            (await visitor.PostWithTokenAsync(EndpointPaths.EmailVerifyResend, Email("someone@example.org"))).Status);
    }

    private static DateTimeOffset MinuteStart(int minutes = 1)
    {
        var period = TimeSpan.FromMinutes(minutes).Ticks;
        return new DateTimeOffset(DateTimeOffset.UtcNow.UtcTicks / period * period, TimeSpan.Zero);
    }

    private static StringContent Email(string address) => RawHttp.Json($$"""{"email": "{{address}}"}""");

    [Fact]
    public async Task AMistypedTrustedProxyStopsTheServerAtStart()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            PosternTestServer.StartAsync(new Dictionary<string, string?> { ["Postern:Proxy:TrustedProxies:0"] = "10.0.0.300" }));
        Assert.Contains("'10.0.0.300' is neither an address nor a network", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBrowsableLoginFormIsLockedToo()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(clock);
        await server.CreateUserAsync("alice", "alice-password");
        for (var i = 0; i < 5; i++)
            await LoginAsync(server, "alice", "wrong");
        var visitor = new Visitor(server.CreateRawClient());
        var form = await visitor.GetAsync("/api-auth/login/");
        var token = System.Text.RegularExpressions.Regex.Match(form.Body, "name=\"csrfmiddlewaretoken\" value=\"([^\"]+)\"").Groups[1].Value;
        var page = await visitor.SendAsync(HttpMethod.Post, "/api-auth/login/", RawHttp.Form(
            ("csrfmiddlewaretoken", token), ("username", "alice"), ("password", "alice-password")));
        Assert.Equal(HttpStatusCode.TooManyRequests, page.Status);
        Assert.Equal("60", page.Header("Retry-After"));
        Assert.Contains("Request was throttled. Expected available in 60 seconds.", page.Body, StringComparison.Ordinal);
        Assert.Null(page.Cookie(CookieNames.Session));
    }
}

/// <summary>
/// Behind nginx (the deployment's own template), with nginx as the trusted proxy: failed logins are counted by the address
/// nginx saw, so an attacker is throttled alone, whatever X-Forwarded-For it sends. Clients come from distinct loopback
/// addresses (127.0.0.2, 127.0.0.3), as machines behind the proxy would.
/// </summary>
public sealed class ThrottlingBehindNginxTests : IAsyncLifetime
{
    private PosternTestServer _server = null!;
    private NginxProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Throttling:Enabled"] = "true",
            ["Postern:Proxy:TrustedProxies:0"] = "127.0.0.1",
        });
        await _server.CreateUserAsync("carol", "carol-password");
        _proxy = await NginxProxy.StartAsync(new NginxProxyOptions { Upstreams = [_server.BaseAddress], Tls = false });
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _server.DisposeAsync();
    }

    private HttpClient ClientFrom(string source) => RawHttp.CreateClientFrom(_proxy.BaseAddress, IPAddress.Parse(source));

    private async Task<RawResponse> LoginFromAsync(string source, string username, string password, string? forwardedFor = null)
    {
        var visitor = new Visitor(ClientFrom(source));
        await visitor.GetAsync(EndpointPaths.Csrf);
        (string, string)[] headers = forwardedFor is null
            ? [(HeaderNames.CsrfToken, visitor.CsrfCookie!)]
            : [(HeaderNames.CsrfToken, visitor.CsrfCookie!), ("X-Forwarded-For", forwardedFor)];
        return await visitor.SendAsync(HttpMethod.Post, EndpointPaths.Login,
            RawHttp.Json($$"""{"username": "{{username}}", "password": "{{password}}"}"""), headers);
    }

    [Fact]
    public async Task AnAttackerBehindTheProxyIsThrottledAloneWhateverItClaims()
    {
        for (var i = 0; i < 31; i++)
        {
            // Each guess claims another address: nginx appends the one it saw, and only that one counts.
            var guess = await LoginFromAsync("127.0.0.2", $"sprayed{i}", "Winter2026!", forwardedFor: $"10.9.8.{i}");
            Assert.Equal(HttpStatusCode.Unauthorized, guess.Status);
        }
        var attacker = await LoginFromAsync("127.0.0.2", "carol", "carol-password", forwardedFor: "127.0.0.3");
        Assert.Equal(HttpStatusCode.TooManyRequests, attacker.Status);

        Assert.Equal(HttpStatusCode.OK, (await LoginFromAsync("127.0.0.3", "carol", "carol-password")).Status);
    }
}
