using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Postern.Testing;

namespace Postern.Client.Tests;

/// <summary>The allauth peer fixture itself: both sites up, serving what tests/allauth-site/README.md says they serve.</summary>
[Collection(AllauthSitesGroup.Name)]
public sealed class AllauthPeerTests(AllauthSites sites)
{
    public static TheoryData<AllauthRelease> Releases => new() { AllauthRelease.Newest, AllauthRelease.Debian12 };

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task TheLoginFormHasAFieldNamedLogin(AllauthRelease release)
    {
        using var http = new HttpClient { BaseAddress = sites[release].BaseAddress };
        using var response = await http.GetAsync("/accounts/login/");
        var page = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // 0.51 writes <form class="login" method="POST" action=...>, the newest spreads its attributes over lines.
        Assert.Matches("""(?i)<form\b[^>]*\smethod="post"[^>]*\saction="/accounts/login/"[^>]*>""", page);
        Assert.Matches("""<input[^>]* name="login"[^>]*>""", page);
    }

    [Fact]
    public async Task TheNewestServesTheHeadlessConfigAsJson()
    {
        using var http = new HttpClient { BaseAddress = sites.Newest.BaseAddress };
        using var response = await http.GetAsync("/_allauth/browser/v1/config");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(200, body.GetProperty("status").GetInt32());
        Assert.True(sites.Newest.HasHeadless);
    }

    [Fact]
    public async Task Debian12HasNoHeadlessApi()
    {
        using var http = new HttpClient { BaseAddress = sites.Debian12.BaseAddress };
        using var response = await http.GetAsync("/_allauth/browser/v1/config");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(sites.Debian12.HasHeadless);
    }

    [Fact]
    public void CarolHasTenRecoveryCodesOnTheNewestOnly()
    {
        Assert.Equal(10, sites.Newest.RecoveryCodes.Count);
        Assert.All(sites.Newest.RecoveryCodes, code => Assert.Matches("^[0-9]{8}$", code));
        Assert.Empty(sites.Debian12.RecoveryCodes);
    }

    [Fact]
    public void TheCurrentTotpHasSixDigits() => Assert.Matches("^[0-9]{6}$", sites.Newest.CurrentTotp());

    /// <summary>The fixture's TOTP is the one seed.py gave carol: allauth's headless two-factor step accepts it.</summary>
    [Fact]
    public async Task CarolLogsInWithTheNextUnusedTotp()
    {
        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(sites.Newest.BaseAddress, "/_allauth/browser/v1/") };
        (await http.GetAsync("config")).Dispose(); // sets the csrftoken cookie

        using var login = await PostAsync("auth/login",
            new { username = AllauthPeer.CarolUsername, password = AllauthPeer.CarolPassword });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode); // pending: the second factor is due

        using var secondFactor = await PostAsync("auth/2fa/authenticate", new { code = await sites.Newest.NextUnusedTotpAsync() });
        var body = await secondFactor.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, secondFactor.StatusCode);
        Assert.Equal(AllauthPeer.CarolUsername, body.GetProperty("data").GetProperty("user").GetProperty("username").GetString());

        async Task<HttpResponseMessage> PostAsync(string path, object json)
        {
            // StringContent, not JsonContent: that one is sent chunked, and Django under gunicorn reads an empty body.
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new StringContent(JsonSerializer.Serialize(json), Encoding.UTF8, "application/json"),
            };
            // Read afresh each time: Django rotates the token at every login.
            request.Headers.Add("X-CSRFToken", cookies.GetCookies(sites.Newest.BaseAddress)["csrftoken"]?.Value);
            return await http.SendAsync(request);
        }
    }
}
