using System.Net;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

public sealed class CsrfEndpointTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateRawClient();

    [Fact]
    public async Task NewVisitorGetsASecretCookieAndAMaskedTokenOfIt()
    {
        var response = await _client.SendAsync(HttpMethod.Get, "/auth/csrf");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("application/json", response.ContentType);
        var cookie = Assert.Single(response.Cookies);
        Assert.Equal("csrftoken", cookie.Name);
        Assert.Matches("^[A-Za-z0-9]{32}$", cookie.Value);
        Assert.Equal("31449600", cookie.MaxAge);
        Assert.Equal("/", cookie.Path);
        Assert.Equal("Lax", cookie.SameSite);
        Assert.False(cookie.HttpOnly, "frontends must be able to read the CSRF cookie");
        Assert.False(cookie.Secure);
        Assert.Contains("expires=", cookie.Raw, StringComparison.Ordinal);

        var token = response.Json().GetProperty("csrfToken").GetString()!;
        Assert.Matches("^[A-Za-z0-9]{64}$", token);
        Assert.Equal(token, response.Header("X-CSRFToken"));
        Assert.Equal(cookie.Value, CsrfToken.Unmask(token));
        Assert.Contains("Cookie", response.Header("Vary"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVisitorWithAValidCookieKeepsItsSecretAndGetsAFreshMask()
    {
        var secret = CsrfToken.NewSecret();
        var first = await _client.SendAsync(HttpMethod.Get, "/auth/csrf", [("Cookie", $"csrftoken={secret}")]);
        var second = await _client.SendAsync(HttpMethod.Get, "/auth/csrf/", [("Cookie", $"csrftoken={secret}")]);

        Assert.Equal(secret, first.Cookie("csrftoken")!.Value);
        Assert.Equal(secret, second.Cookie("csrftoken")!.Value);
        var token1 = first.Json().GetProperty("csrfToken").GetString()!;
        var token2 = second.Json().GetProperty("csrfToken").GetString()!;
        Assert.NotEqual(token1, token2);
        Assert.Equal(secret, CsrfToken.Unmask(token1));
        Assert.Equal(secret, CsrfToken.Unmask(token2));
    }

    [Fact]
    public async Task ALegacyMaskedCookieIsRewrittenAsItsSecret()
    {
        var secret = CsrfToken.NewSecret();
        var response = await _client.SendAsync(HttpMethod.Get, "/auth/csrf", [("Cookie", $"csrftoken={CsrfToken.Mask(secret)}")]);
        Assert.Equal(secret, response.Cookie("csrftoken")!.Value);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("abcdefghijklmnopqrstuvwxyz01234!")]
    public async Task AMalformedCookieIsReplacedEvenOnRequestsThatDoNotUseIt(string value)
    {
        var response = await _client.SendAsync(HttpMethod.Get, "/no-such-page", [("Cookie", $"csrftoken={value}")]);
        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Matches("^[A-Za-z0-9]{32}$", response.Cookie("csrftoken")!.Value);
    }

    [Fact]
    public async Task JsonRequestsThatNeverAskForATokenSetNoCookie()
    {
        var response = await _client.SendAsync(HttpMethod.Get, "/auth/user");
        Assert.Null(response.Cookie("csrftoken"));
    }

    [Theory]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    public async Task OnlyGetIsAllowed(string method)
    {
        var response = await _client.SendAsync(new HttpMethod(method), "/auth/csrf");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.Status);
        Assert.Equal("GET", response.ContentHeaders.Allow.Single());
    }

    [Fact]
    public async Task AnUnsafeMethodIsCsrfCheckedBeforeItIsRefusedAsTheWrongMethod()
    {
        var withoutToken = await _client.SendAsync(HttpMethod.Post, "/auth/csrf");
        Assert.Equal(HttpStatusCode.Forbidden, withoutToken.Status);
        Assert.Equal("CSRF Failed: CSRF cookie not set.", withoutToken.Detail);

        var secret = CsrfToken.NewSecret();
        var withToken = await _client.SendAsync(HttpMethod.Post, "/auth/csrf",
            [("Cookie", $"csrftoken={secret}"), ("X-CSRFToken", secret)]);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, withToken.Status);
        Assert.Equal("Method \"POST\" not allowed.", withToken.Detail);
    }

    [Fact]
    public async Task SecurityHeadersAreThoseOfDjangosSecurityMiddleware()
    {
        var response = await _client.SendAsync(HttpMethod.Get, "/auth/csrf");
        Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
        Assert.Equal("same-origin", response.Header("Referrer-Policy"));
        Assert.Equal("same-origin", response.Header("Cross-Origin-Opener-Policy"));
        Assert.Null(response.Header("Server"));
    }
}
