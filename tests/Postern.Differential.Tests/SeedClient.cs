using System.Net;
using System.Text.Json;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Differential.Tests;

/// <summary>The seed's requests with a cookie jar, as a frontend sends them, to Postern and Django alike.</summary>
public static class SeedClient
{
    public static async Task<CookieJar> LogInAsync(HttpClient client, string username, string password)
    {
        var (jar, login) = await PostLoginAsync(client, username, password);
        Assert.Equal(HttpStatusCode.OK, login.Status);
        return jar;
    }

    public static async Task<RawResponse> LogInOnAsync(HttpClient client, string username, string password) =>
        (await PostLoginAsync(client, username, password)).Login;

    /// <summary>The seed's login: a CSRF cookie, then the credentials with its token; the jar keeps what it set.</summary>
    public static async Task<(CookieJar Jar, RawResponse Login)> PostLoginAsync(HttpClient client, string username, string password)
    {
        var jar = new CookieJar();
        jar.Absorb(await client.SendAsync(HttpMethod.Get, EndpointPaths.Csrf));
        var login = await client.SendAsync(HttpMethod.Post, EndpointPaths.Login, [.. jar.Header(), (HeaderNames.CsrfToken, jar[CookieNames.Csrf]!)],
            RawHttp.Json(JsonSerializer.Serialize(new { username, password })));
        jar.Absorb(login);
        return (jar, login);
    }

    /// <summary>A request with the jar's cookies (and, for an unsafe one, its CSRF token); the jar takes what comes back.</summary>
    public static async Task<RawResponse> SendAsync(HttpClient client, CookieJar jar, HttpMethod method, string path, string? json = null)
    {
        var headers = jar.Header().ToList();
        if (method != HttpMethod.Get && jar[CookieNames.Csrf] is { } token)
            headers.Add((HeaderNames.CsrfToken, token));
        var response = await client.SendAsync(method, path, headers, json is null ? null : RawHttp.Json(json));
        jar.Absorb(response);
        return response;
    }
}
