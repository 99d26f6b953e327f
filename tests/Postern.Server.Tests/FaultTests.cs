using System.Net;
using System.Text.RegularExpressions;
using Postern.Server.Tests.Support;
using Postern.Testing;
using Xunit.Abstractions;

namespace Postern.Server.Tests;

/// <summary>
/// The compose topology as real processes: two <c>serve</c> processes sharing one PostgreSQL database and one Redis
/// (append-only, as compose runs it), behind Debian's nginx running deploy/nginx/postern.conf.template, and staff
/// users for the signed-in clients of a load run.
/// </summary>
public sealed class PosternProcessesBehindNginx : IAsyncLifetime
{
    public const int Clients = 20;
    public const string Password = "client-password";

    private readonly string _folder = Directory.CreateTempSubdirectory("postern-faults-").FullName;

    public PostgresServer Postgres { get; private set; } = null!;
    public RedisServer Redis { get; private set; } = null!;
    public string DatabaseUrl { get; private set; } = "";
    public ServeProcess[] Instances { get; } = new ServeProcess[2];
    public NginxProxy Proxy { get; private set; } = null!;
    public IReadOnlyList<(string Username, string Password, long UserId)> Users { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        Redis = await RedisServer.StartAsync(appendOnly: true);
        DatabaseUrl = await Postgres.CreateDatabaseAsync();
        // Users made before any instance runs (so nothing is cached yet): one staff user per client.
        await using (var seeder = await PosternTestServer.StartAsync(databasePath: DatabaseUrl))
        {
            var users = new List<(string, string, long)>();
            for (var i = 0; i < Clients; i++)
                users.Add(($"client{i:00}", Password, (await seeder.CreateUserAsync($"client{i:00}", Password, staff: true)).Id));
            Users = users;
        }
        var started = await Task.WhenAll(Enumerable.Range(0, Instances.Length).Select(_ => StartInstanceAsync(port: null)));
        started.CopyTo(Instances, 0);
        Proxy = await NginxProxy.StartAsync(
            new NginxProxyOptions { Upstreams = [.. Instances.Select(instance => instance.Address)], Tls = false });
    }

    private Task<ServeProcess> StartInstanceAsync(int? port) =>
        ServeProcess.StartAsync(_folder, DatabaseUrl, Redis.Configuration, port);

    /// <summary>A new process in place of one that was killed, on the same port, so nginx finds it where it was.</summary>
    public async Task ReplaceInstanceAsync(int index)
    {
        var port = Instances[index].Address.Port;
        await Instances[index].DisposeAsync();
        Instances[index] = await StartInstanceAsync(port);
    }

    public async Task DisposeAsync()
    {
        if (Proxy is not null)
            await Proxy.DisposeAsync();
        foreach (var instance in Instances)
        {
            if (instance is not null)
                await instance.DisposeAsync();
        }
        if (Redis is not null)
            await Redis.DisposeAsync();
        if (Postgres is not null)
            await Postgres.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Faults under a bounded load of signed-in clients (all on loopback): an instance killed, PostgreSQL restarted, Redis
/// restarted. No session is lost, requests fail cleanly (a 503 with a JSON <c>detail</c>, never a 500, never a hang
/// beyond the client's timeout) and only while the fault lasts, and everything recovers without restarting Postern.
/// Assertions are on statuses, bodies and the order of events, never on timings.
/// </summary>
[Trait("Store", "postgres-only")]
public sealed class FaultTests(PosternProcessesBehindNginx setup, ITestOutputHelper output) : IClassFixture<PosternProcessesBehindNginx>
{
    private const int RequestsPerClient = 200;
    private const int Total = PosternProcessesBehindNginx.Clients * RequestsPerClient;
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(60);

    private const string PosternUnavailable = "Service temporarily unavailable, try again shortly.";
    private const string NoInstanceAnswered = "No backend instance answered, try again shortly.";

    private Task<SignedInLoad> SignInAsync() => SignedInLoad.SignInAsync(setup.Proxy.CreateRawClient, setup.Users);

    /// <summary>How many requests of each kind got what, in each phase: what the fault did, for whoever reads the test's output.</summary>
    private void Report(IEnumerable<LoadOutcome> outcomes)
    {
        foreach (var group in outcomes
            .GroupBy(o => (o.Sent, o.Request,
                Answer: o.Status is { } status ? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) : "none",
                o.Detail))
            .OrderBy(g => g.Key.Sent).ThenBy(g => g.Key.Request))
            output.WriteLine($"sent {group.Key.Sent}, {group.Key.Request}: {group.Count()} x {group.Key.Answer} {group.Key.Detail}");
    }

    /// <summary>The run went on after the fault was over (it was not over before the fault ended), and served requests then.</summary>
    private static void AssertTheLoadOutlastedTheFault(IEnumerable<LoadOutcome> outcomes) =>
        Assert.Contains(outcomes, outcome => outcome.Sent == FaultPhase.After && outcome.Succeeded);

    private static bool IsCleanUnavailable(LoadOutcome outcome, string detail) =>
        outcome.Status == HttpStatusCode.ServiceUnavailable && outcome.Detail == detail && outcome.RetryAfter == "1"
        && outcome.Failure is null;

    /// <summary>
    /// Every instance, asked directly, says it is ready (/readyz 200) and accepts a write again: the clients of PostgreSQL
    /// and Redis reconnect on their own within seconds, and until then a write is refused with a 503, as it should be.
    /// </summary>
    private async Task WaitUntilEveryInstanceAcceptsWritesAsync(SignedInLoad load, string run)
    {
        var deadline = DateTime.UtcNow + RecoveryBound;
        var probe = load.Clients[0];
        foreach (var instance in setup.Instances)
        {
            using var client = RawHttp.CreateClient(instance.Address);
            var attempt = 0;
            while ((await client.SendAsync(HttpMethod.Get, "/readyz")).Status != HttpStatusCode.OK
                || !(await load.SendAsync(probe, LoadRequest.PatchOwnEmail, $"{run}-probe.{instance.Address.Port}.{attempt++}",
                    probe.Visitor.Via(client))).Succeeded)
            {
                Assert.True(DateTime.UtcNow < deadline,
                    $"{instance.Address} not accepting writes within {RecoveryBound} of the fault's end:\n{instance.Stdout}"
                    + $"\n{instance.Stderr}");
                await Task.Delay(100);
            }
        }
    }

    /// <summary>
    /// After the fault: every client still has the session it signed in with, and works through nginx with it: who it is,
    /// a write, and that write read back straight from every instance at once (their caches agree again).
    /// </summary>
    private async Task AssertEveryClientWorksWithItsOwnSessionAsync(SignedInLoad load, string run)
    {
        var direct = setup.Instances.Select(instance => RawHttp.CreateClient(instance.Address)).ToList();
        try
        {
            var failed = new List<string>();
            foreach (var client in load.Clients)
            {
                Assert.Equal(client.SessionKey, client.Visitor.SessionCookie);
                var tag = $"{run}-after.{client.Index}";
                foreach (var outcome in new[]
                {
                    await load.SendAsync(client, LoadRequest.CurrentUser, tag + ".user"),
                    await load.SendAsync(client, LoadRequest.PatchOwnEmail, tag),
                })
                {
                    if (!outcome.Succeeded)
                        failed.Add(outcome.ToString());
                }
                foreach (var instance in direct)
                {
                    var read = await client.Visitor.Via(instance).GetAsync($"/api/users/{client.UserId}/");
                    if (read.Status != HttpStatusCode.OK || read.Json().GetProperty("email").GetString() != $"{tag}@example.org")
                        failed.Add($"client {client.Index} read from {instance.BaseAddress}: {read.StatusCode} {read.Body}");
                }
                Assert.Equal(client.SessionKey, client.Visitor.SessionCookie);
            }
            Assert.True(failed.Count == 0, "after the fault:\n" + string.Join('\n', failed));
        }
        finally
        {
            direct.ForEach(client => client.Dispose());
        }
    }

    private static string Describe(IEnumerable<LoadOutcome> outcomes) => string.Join('\n', outcomes.Take(20));

    /// <summary>
    /// The upstream addresses nginx tried for each of these tagged requests (<c>?r=TAG</c>), in order, from its access log.
    /// nginx logs a request after answering it, so the last lines may come a moment after the last answers.
    /// </summary>
    private async Task<Dictionary<string, string[]>> UpstreamsAsync(IEnumerable<LoadOutcome> outcomes)
    {
        var tags = outcomes.Select(outcome => outcome.Tag).ToHashSet(StringComparer.Ordinal);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var byTag = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (var line in await File.ReadAllLinesAsync(setup.Proxy.AccessLog))
            {
                var match = Regex.Match(line, @"[?&]r=([^ &""]+)[^""]*"" \d{3} upstream=(.*?) request_id=\S*$");
                if (match.Success && tags.Contains(match.Groups[1].Value))
                    byTag[match.Groups[1].Value] = match.Groups[2].Value.Split([", ", " : "], StringSplitOptions.RemoveEmptyEntries)
                        .Where(a => a != "-").ToArray();
            }
            if (byTag.Count == tags.Count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(tags.Count, byTag.Count);
                return byTag;
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task KillingAnInstanceLosesNoSessionAndFailsOnlyRequestsInFlightOnIt()
    {
        using var load = await SignInAsync();
        var victim = setup.Instances[0];
        var survivor = setup.Instances[1];
        try
        {
            var run = load.RunAsync("kill", RequestsPerClient, RunBound);
            await load.WaitUntilAsync(l => l.Outcomes.Count >= Total / 4, RunBound, "a quarter of the run");
            load.Phase = FaultPhase.During;
            await victim.KillAsync();
            load.Phase = FaultPhase.After;
            await run;

            var outcomes = load.Outcomes.ToList();
            Report(outcomes);
            AssertTheLoadOutlastedTheFault(outcomes);
            // Everything sent once the victim was dead was served (by the survivor); so was everything answered before.
            var wrong = outcomes
                .Where(outcome => !outcome.Succeeded && (outcome.Sent == FaultPhase.After || outcome.Answered == FaultPhase.Before))
                .ToList();
            Assert.True(wrong.Count == 0, "failed outside the kill:\n" + Describe(wrong));

            // What failed was in flight on the victim: nginx sent it there only, and could not send it on (a POST or PATCH
            // already sent may have been applied), so it answered its own 503 JSON; a GET it retried on the survivor.
            var failed = outcomes.Where(outcome => !outcome.Succeeded).ToList();
            Assert.InRange(failed.Count, 0, PosternProcessesBehindNginx.Clients);
            var afterwards = outcomes.Where(outcome => outcome.Sent == FaultPhase.After).ToList();
            var upstreams = await UpstreamsAsync(failed.Concat(afterwards));
            foreach (var outcome in failed)
            {
                Assert.True(outcome.Request == LoadRequest.PatchOwnEmail && IsCleanUnavailable(outcome, NoInstanceAnswered),
                    outcome.ToString());
                Assert.Equal([victim.Address.Authority], upstreams[outcome.Tag]);
            }
            Assert.All(afterwards, outcome => Assert.Equal(survivor.Address.Authority, upstreams[outcome.Tag].Last()));

            await AssertEveryClientWorksOnTheSurvivorAsync(load, survivor);
        }
        finally
        {
            await setup.ReplaceInstanceAsync(0);
        }
        await WaitUntilEveryInstanceAcceptsWritesAsync(load, "kill");
        await AssertEveryClientWorksWithItsOwnSessionAsync(load, "kill");
    }

    /// <summary>The victim is dead: every client, through nginx, is served by the survivor with its own session.</summary>
    private async Task AssertEveryClientWorksOnTheSurvivorAsync(SignedInLoad load, ServeProcess survivor)
    {
        var outcomes = await Task.WhenAll(
            load.Clients.Select(client => load.SendAsync(client, LoadRequest.CurrentUser, $"kill-survivor.{client.Index}")));
        Assert.True(outcomes.All(outcome => outcome.Succeeded),
            "on the survivor:\n" + Describe(outcomes.Where(outcome => !outcome.Succeeded)));
        var upstreams = await UpstreamsAsync(outcomes);
        Assert.All(outcomes, outcome => Assert.Equal(survivor.Address.Authority, upstreams[outcome.Tag].Last()));
        Assert.All(load.Clients, client => Assert.Equal(client.SessionKey, client.Visitor.SessionCookie));
    }

    /// <summary>
    /// Runs the load; a quarter of the way through stops a server, starts it again once the load has met 503s, and lets the
    /// load finish. What holds for any outage: the load went on after it; every request was served or refused with Postern's
    /// clean 503 (never a 500, a hang or nginx's own error: both instances stay up); nothing failed before the stop.
    /// </summary>
    private async Task<List<LoadOutcome>> RunThroughAnOutageAsync(SignedInLoad load, string run, Func<Task> stop, Func<Task> start)
    {
        var running = load.RunAsync(run, RequestsPerClient, RunBound);
        await load.WaitUntilAsync(l => l.Outcomes.Count >= Total / 4, RunBound, "a quarter of the run");
        load.Phase = FaultPhase.During;
        await stop();
        await load.WaitUntilAsync(
            l => l.Outcomes.Count(outcome => outcome.Sent == FaultPhase.During && outcome.Status == HttpStatusCode.ServiceUnavailable) >= 5,
            RunBound, $"503s during the {run} outage");
        await start();
        load.Phase = FaultPhase.After;
        await running;

        var outcomes = load.Outcomes.ToList();
        Report(outcomes);
        AssertTheLoadOutlastedTheFault(outcomes);
        var unclean = outcomes.Where(outcome => !outcome.Succeeded && !IsCleanUnavailable(outcome, PosternUnavailable)).ToList();
        Assert.True(unclean.Count == 0, "neither served nor a clean 503 from Postern:\n" + Describe(unclean));
        var early = outcomes.Where(outcome => !outcome.Succeeded && outcome.Answered == FaultPhase.Before).ToList();
        Assert.True(early.Count == 0, $"failed before the {run} outage:\n" + Describe(early));
        return outcomes;
    }

    [Fact]
    public async Task RestartingPostgresFailsRequestsCleanlyWhileItIsDownAndAllRecoverWithTheirSessions()
    {
        using var load = await SignInAsync();
        await RunThroughAnOutageAsync(load, "pg", setup.Postgres.StopAsync, setup.Postgres.StartAgainAsync);

        await WaitUntilEveryInstanceAcceptsWritesAsync(load, "pg");
        await AssertEveryClientWorksWithItsOwnSessionAsync(load, "pg");
    }

    [Fact]
    public async Task RestartingRedisServesEveryReadRefusesWritesCleanlyAndAllRecoverWithTheirSessions()
    {
        using var load = await SignInAsync();
        var outcomes = await RunThroughAnOutageAsync(load, "redis", setup.Redis.StopAsync, setup.Redis.StartAgainAsync);
        // Reads never need Redis: without it they go to PostgreSQL. Only writes were refused (their announcement could not reach it).
        var failedReads = outcomes.Where(outcome => outcome.Request != LoadRequest.PatchOwnEmail && !outcome.Succeeded).ToList();
        Assert.True(failedReads.Count == 0, "reads that failed:\n" + Describe(failedReads));

        await WaitUntilEveryInstanceAcceptsWritesAsync(load, "redis");
        await AssertEveryClientWorksWithItsOwnSessionAsync(load, "redis");
    }
}
