using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Postern.Bench.Seed;
using Postern.Bench.Servers;
using Postern.Client;
using Postern.Protocol;

namespace Postern.Client.Bench;

/// <summary>Where the pair's answers come from.</summary>
public enum Backend
{
    /// <summary>A local Postern process over loopback: the comparison issue 6 sets the target on.</summary>
    Postern,

    /// <summary><see cref="InMemoryAnswers"/>: no server, so that the client's own cost shows.</summary>
    InMemory,
}

/// <summary>
/// What PosternSession costs over doing the protocol by hand: the same signed-in GET and the same
/// CSRF-carrying PATCH, both deserialised into the same records, against one local Postern (a process of
/// its own, so the allocations measured are the client's alone) and against answers from memory. Each raw
/// benchmark is its pair's baseline. Both sides put the same bytes on the wire (same handler settings,
/// HTTP/1.1, <c>Accept: application/json</c>, the same cookies, the body with a Content-Length: Django reads
/// no chunked body) and read the same answer.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet's [GlobalCleanup] disposes them.")]
public class ClientOverheadBenchmarks
{
    private const string UserPath = "/api/users/1/";
    private const string GroupPath = "/api/groups/1/";
    private static readonly object GroupChange = new { name = "staff" };

    private string? _folder;
    private ServerProcess? _server;
    private PosternSession _session = null!;
    private HttpClient _raw = null!;
    private string _rawCookie = "";
    private string _rawToken = "";

    [Params(Backend.Postern, Backend.InMemory)]
    public Backend Backend { get; set; }

    [GlobalSetup]
    public async Task SetUpAsync()
    {
        if (Backend == Backend.InMemory)
        {
            var answers = new InMemoryAnswers(new Uri("http://127.0.0.1:8000/"));
            _session = new PosternSession(new PosternClientOptions { BaseAddress = answers.Origin }, answers, disposeInner: false);
            // Signed in as a session is, by the answer's Set-Cookie (not by writing into its jar, which would
            // hand the jar out and make every request read it).
            (await _session.SendRawAsync(HttpMethod.Post, "/auth/login", null)).Dispose();
            _rawCookie = answers.CookieHeader;
            _rawToken = answers.CsrfToken;
            if (_session.CsrfToken != _rawToken)
                throw new InvalidOperationException("The in-memory sign-in set no CSRF cookie.");
            _raw = RawClient(answers, answers.Origin);
            return;
        }
        // The server's database on a tmpfs where there is one: a PATCH's commit then costs the same every time, not
        // whatever the shared disk is doing, and the client's cost is what varies between the pair.
        var memory = new DirectoryInfo("/dev/shm");
        _folder = memory.Exists
            ? memory.CreateSubdirectory($"postern-client-bench-{Guid.NewGuid():N}").FullName
            : Directory.CreateTempSubdirectory("postern-client-bench-").FullName;
        // bench/run.sh --client runs this process on every core but the last; the server gets that one.
        _server = await PosternServer.StartAsync(_folder, Environment.GetEnvironmentVariable("POSTERN_BENCH_SERVER_CPUS"));
        var options = new PosternClientOptions { LoginMode = LoginMode.Seed };
        _session = new PosternSession(_server.BaseAddress, options);
        await _session.LoginAsync(SeedData.StaffUsername, SeedData.StaffPassword);
        // The raw client's own session: signed in once (by a PosternSession, which is not what is measured), then carried by hand.
        using (var signIn = new PosternSession(_server.BaseAddress, options))
        {
            await signIn.LoginAsync(SeedData.StaffUsername, SeedData.StaffPassword);
            _rawCookie = signIn.Cookies.GetCookieHeader(_server.BaseAddress);
            _rawToken = signIn.CsrfToken ?? throw new InvalidOperationException("No CSRF cookie after login.");
        }
        // PosternClientOptions.CreateHandler's settings, spelled out as a hand-written client would.
        _raw = RawClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }, _server.BaseAddress);
    }

    private static HttpClient RawClient(HttpMessageHandler handler, Uri baseAddress)
    {
        var client = new HttpClient(handler) { BaseAddress = baseAddress };
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    [GlobalCleanup]
    public async Task CleanUpAsync()
    {
        _session.Dispose();
        _raw.Dispose();
        if (_server is not null)
            await _server.DisposeAsync();
        if (_folder is not null)
            Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "raw HttpClient: GET, Cookie header")]
    [BenchmarkCategory("signed-in GET")]
    public async Task<UserResource> RawGetAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, UserPath);
        request.Headers.Add("Cookie", _rawCookie);
        using var response = await _raw.SendAsync(request);
        EnsureSuccessWithoutNewCookies(response);
        return (await response.Content.ReadFromJsonAsync<UserResource>(PosternSession.Json))!;
    }

    [Benchmark(Description = "PosternSession.GetAsync")]
    [BenchmarkCategory("signed-in GET")]
    public Task<UserResource> SessionGetAsync() => _session.GetAsync<UserResource>(UserPath);

    [Benchmark(Baseline = true, Description = "raw HttpClient: PATCH, Cookie + X-CSRFToken")]
    [BenchmarkCategory("CSRF-carrying PATCH")]
    public async Task<GroupResource> RawPatchAsync()
    {
        // Serialized first, so that it goes with a Content-Length (JsonContent alone would be sent chunked).
        var body = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(GroupChange, PosternSession.Json));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var request = new HttpRequestMessage(HttpMethod.Patch, GroupPath) { Content = body };
        request.Headers.Add("Cookie", _rawCookie);
        request.Headers.Add(HeaderNames.CsrfToken, _rawToken);
        using var response = await _raw.SendAsync(request);
        EnsureSuccessWithoutNewCookies(response);
        return (await response.Content.ReadFromJsonAsync<GroupResource>(PosternSession.Json))!;
    }

    [Benchmark(Description = "PosternSession.PatchAsync")]
    [BenchmarkCategory("CSRF-carrying PATCH")]
    public Task<GroupResource> SessionPatchAsync() => _session.PatchAsync<GroupResource>(GroupPath, GroupChange);

    /// <summary>
    /// The raw side sends the cookie and token it got at sign-in, which is right only while the server sets
    /// no new ones; a careful hand-written client has to look, as the session does.
    /// </summary>
    private static void EnsureSuccessWithoutNewCookies(HttpResponseMessage response)
    {
        response.EnsureSuccessStatusCode();
        if (response.Headers.Contains("Set-Cookie"))
            throw new InvalidOperationException("The server set a cookie: the raw client's fixed Cookie header is out of date.");
    }
}
