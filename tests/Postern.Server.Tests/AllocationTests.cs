using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Postern.Protocol;
using Postern.Server.Tests.Support;
using Postern.Testing;
using Xunit.Abstractions;

namespace Postern.Server.Tests;

/// <summary>Run alone: the budgets count every byte the test process allocates while they measure.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationBudgetsRunAlone
{
    public const string Name = "Allocation budgets";
}

/// <summary>
/// Bytes allocated per request on the hot paths, measured in-process around a loop of requests from a client that allocates
/// nothing itself (<see cref="KeepAliveClient"/>): the whole process's allocations (<see cref="GC.GetTotalAllocatedBytes"/>)
/// divided by the requests. What a request allocates is what the collector must sweep, and under steady load what it
/// promotes: resident memory grew with it (bench/README.md, "Longer soaks"). The budgets sit about a quarter above what
/// was measured (bench/README.md has the figures), so that a change that adds a kilobyte per request fails here first;
/// the test prints the largest allocators by type (the runtime's allocation ticks, one per ~100 KB) to show where.
/// Allocations only, never timings.
/// </summary>
/// <remarks>
/// The budgets are SQLite's, the embedded default: on PostgreSQL every request also reads the change counter over a pooled
/// connection (Npgsql's command and reader), which this does not measure.
/// </remarks>
[Collection(AllocationBudgetsRunAlone.Name)]
[Trait("Store", "sqlite-only")]
public sealed class AllocationTests(ITestOutputHelper output)
{
    private const int WarmUpRequests = 2_000;
    private const int MeasuredRequests = 10_000;

    /// <summary>
    /// The server as it ships (appsettings.json: ASP.NET Core's per-request hosting diagnostics off), the read cache warm, the
    /// request log's line off as the test servers run it (on, it adds about a kilobyte: bench/README.md).
    /// </summary>
    [Fact]
    public async Task TheHotPathsStayWithinTheirBudgets()
    {
        await using var server = await PosternTestServer.StartAsync();
        var paths = await HotPathsAsync(server);
        var measured = new List<(string Name, double Bytes, int Budget)>();
        foreach (var (name, request, budget) in paths)
            measured.Add((name, await MeasureAsync(server.BaseAddress, request, name), budget));
        Assert.All(measured, m => Assert.True(m.Bytes <= m.Budget, $"{m.Name}: {m.Bytes:0} bytes per request, over its budget of {m.Budget}"));
    }

    private static async Task<(string Name, byte[] Request, int Budget)[]> HotPathsAsync(PosternTestServer server)
    {
        await server.SeedLikeDjangoPeerAsync(extraUsers: 25);
        var visitor = new Visitor(server.CreateRawClient());
        await visitor.LoginAsync("alice", "alice-password");
        await visitor.GetAsync(EndpointPaths.Csrf);
        var cookies = $"{CookieNames.Csrf}={visitor.CsrfCookie}; {CookieNames.Session}={visitor.SessionCookie}";
        var uri = server.BaseAddress;
        return
        [
            ("GET /api/users/1/", KeepAliveClient.Request("GET", "/api/users/1/", uri, null, ("Cookie", cookies)), 4_200),
            ("GET /api/users/?page=1", KeepAliveClient.Request("GET", "/api/users/?page=1", uri, null, ("Cookie", cookies)), 6_500),
            ("GET /auth/csrf, anonymous", KeepAliveClient.Request("GET", EndpointPaths.Csrf, uri), 3_000),
            ("GET /auth/csrf, signed in", KeepAliveClient.Request("GET", EndpointPaths.Csrf, uri, null, ("Cookie", cookies)), 3_100),
        ];
    }

    private async Task<double> MeasureAsync(Uri server, byte[] request, string name)
    {
        using var ticks = new AllocationTicks();
        // On a thread of its own, synchronously: the client's loop allocates nothing that could be mistaken for the server's.
        var bytes = await Task.Factory.StartNew(() => Measure(server, request), TaskCreationOptions.LongRunning);
        output.WriteLine($"{name}: {bytes:0} bytes per request; allocation ticks by type:");
        foreach (var (type, count) in ticks.Top(12))
            output.WriteLine($"    {count,5} {type}");
        return bytes;
    }

    private static double Measure(Uri server, byte[] request)
    {
        using var client = new KeepAliveClient(server);
        for (var i = 0; i < WarmUpRequests; i++)
            Assert.Equal(200, client.Send(request));
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < MeasuredRequests; i++)
            client.Send(request);
        return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)MeasuredRequests;
    }

    /// <summary>The runtime's allocation ticks (an event per ~100 KB allocated, naming the type that crossed it), counted by type.</summary>
    private sealed class AllocationTicks : EventListener
    {
        private readonly ConcurrentDictionary<string, int> _types = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true && e.PayloadNames is { } names
                && names.IndexOf("TypeName") is >= 0 and var at)
                _types.AddOrUpdate(e.Payload![at] as string ?? "?", 1, (_, n) => n + 1);
        }

        public IEnumerable<(string Type, int Count)> Top(int n) =>
            _types.OrderByDescending(p => p.Value).Take(n).Select(p => (p.Key, p.Value));
    }
}
