using System.Net.Http.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Postern.Bench.Seed;
using Postern.Bench.Servers;
using Postern.Client;
using Postern.Protocol;

namespace Postern.Client.Bench;

/// <summary>
/// What PosternSession costs over doing the protocol by hand: the same signed-in GET and the same
/// CSRF-carrying PATCH, both deserialised into the same records, against one local Postern (a process of
/// its own, so the allocations measured are the client's alone). Each raw benchmark is its pair's baseline.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet's [GlobalCleanup] disposes them.")]
public class ClientOverheadBenchmarks
{
    private const string UserPath = "/api/users/1/";
    private const string GroupPath = "/api/groups/1/";
    private static readonly object GroupChange = new { name = "staff" };

    private string _folder = "";
    private ServerProcess? _server;
    private PosternSession _session = null!;
    private HttpClient _raw = null!;
    private string _rawCookie = "";
    private string _rawToken = "";

    [GlobalSetup]
    public async Task StartPosternAsync()
    {
        _folder = Directory.CreateTempSubdirectory("postern-client-bench-").FullName;
        _server = await PosternServer.StartAsync(_folder);
        var options = new PosternClientOptions { LoginMode = LoginMode.Json };
        _session = new PosternSession(_server.BaseAddress, options);
        await _session.LoginAsync(SeedData.StaffUsername, SeedData.StaffPassword);
        // The raw client's own session: signed in once (by a PosternSession, which is not what is measured), then carried by hand.
        using (var signIn = new PosternSession(_server.BaseAddress, options))
        {
            await signIn.LoginAsync(SeedData.StaffUsername, SeedData.StaffPassword);
            _rawCookie = signIn.Cookies.GetCookieHeader(_server.BaseAddress);
            _rawToken = signIn.CsrfToken ?? throw new InvalidOperationException("No CSRF cookie after login.");
        }
        _raw = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = _server.BaseAddress };
    }

    [GlobalCleanup]
    public async Task StopPosternAsync()
    {
        _session.Dispose();
        _raw.Dispose();
        if (_server is not null)
            await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "raw HttpClient: GET, Cookie header")]
    [BenchmarkCategory("signed-in GET")]
    public async Task<UserResource> RawGetAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, UserPath);
        request.Headers.Add("Cookie", _rawCookie);
        using var response = await _raw.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<UserResource>(PosternSession.Json))!;
    }

    [Benchmark(Description = "PosternSession.GetAsync")]
    [BenchmarkCategory("signed-in GET")]
    public Task<UserResource> SessionGetAsync() => _session.GetAsync<UserResource>(UserPath);

    [Benchmark(Baseline = true, Description = "raw HttpClient: PATCH, Cookie + X-CSRFToken")]
    [BenchmarkCategory("CSRF-carrying PATCH")]
    public async Task<GroupResource> RawPatchAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, GroupPath) { Content = JsonContent.Create(GroupChange, options: PosternSession.Json) };
        request.Headers.Add("Cookie", _rawCookie);
        request.Headers.Add(HeaderNames.CsrfToken, _rawToken);
        using var response = await _raw.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<GroupResource>(PosternSession.Json))!;
    }

    [Benchmark(Description = "PosternSession.PatchAsync")]
    [BenchmarkCategory("CSRF-carrying PATCH")]
    public Task<GroupResource> SessionPatchAsync() => _session.PatchAsync<GroupResource>(GroupPath, GroupChange);
}
