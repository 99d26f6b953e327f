using System.Net;
using Postern.Protocol;

namespace Postern.Client.Tests;

/// <summary>A session authenticated by an API token instead of a login, against a real Postern (Django's backend has no tokens).</summary>
[Collection(BackendsGroup.Name)]
public sealed class ApiTokenTests(Backends backends)
{
    private async Task<(PosternSession Owner, ApiTokenInfo Token)> TokenOfAsync(string username, string name)
    {
        if (await backends.Postern.Users.FindUserByUsernameAsync(username) is null)
            await backends.Postern.CreateUserAsync(username, "pw-12345678", staff: true);
        var owner = new PosternSession(backends.Postern.BaseAddress);
        await owner.LoginAsync(username, "pw-12345678");
        return (owner, await owner.CreateTokenAsync(name));
    }

    [Fact]
    public async Task ATokenSessionNeedsNoLoginCookiesOrCsrf()
    {
        var (owner, token) = await TokenOfAsync("client-token", "client");
        using var _ = owner;
        Assert.Matches("^[0-9a-f]{40}$", token.Key);
        Assert.Equal(token.Key![..8], token.Prefix);

        using var session = new PosternSession(backends.Postern.BaseAddress).WithToken(token.Key);
        Assert.Equal("client-token", (await session.WhoAmIAsync()).Username);
        var group = await session.PostAsync<System.Text.Json.JsonElement>("/api/groups/", new { name = "client-token-group" });
        Assert.Equal("client-token-group", group.GetProperty("name").GetString());
        Assert.Null(session.CsrfToken);
        Assert.Empty(session.Cookies.GetAllCookies());

        // The option does the same as WithToken.
        using var viaOptions = new PosternSession(backends.Postern.BaseAddress, new PosternClientOptions { ApiToken = token.Key });
        Assert.Equal("client-token", (await viaOptions.WhoAmIAsync()).Username);
    }

    [Fact]
    public async Task ARevokedTokenIsAnInvalidTokenException()
    {
        var (owner, token) = await TokenOfAsync("client-revoked", "doomed");
        using var _ = owner;
        using var session = new PosternSession(backends.Postern.BaseAddress).WithToken(token.Key!);
        Assert.Equal("client-revoked", (await session.WhoAmIAsync()).Username);

        var listed = new List<ApiTokenInfo>();
        await foreach (var shown in owner.ListTokensAsync())
            listed.Add(shown);
        Assert.Contains(listed, t => t.Url == token.Url && t.Key is null);
        await owner.RevokeTokenAsync(token.Url);

        var refused = await Assert.ThrowsAsync<InvalidTokenException>(() => session.WhoAmIAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal(ApiToken.InvalidToken, refused.Detail);
    }

    [Fact]
    public async Task ATokenSessionCannotMakeTokensAndSavesItsToken()
    {
        var (owner, token) = await TokenOfAsync("client-saved", "saved");
        using var _ = owner;
        using var session = new PosternSession(backends.Postern.BaseAddress).WithToken(token.Key!);

        var refused = await Assert.ThrowsAsync<PermissionDeniedException>(() => session.CreateTokenAsync("child"));
        Assert.Equal("An API token cannot create API tokens: sign in with a session.", refused.Detail);

        var file = Path.Combine(Directory.CreateTempSubdirectory("postern-token-").FullName, "token.json");
        await session.SaveAsync(file);
        using var resumed = await PosternSession.LoadAsync(file);
        Assert.Equal(token.Key, resumed.ApiToken);
        Assert.Equal("client-saved", (await resumed.WhoAmIAsync()).Username);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }

    [Fact]
    public async Task TheTokenNeverGoesToAnotherOrigin()
    {
        var (owner, token) = await TokenOfAsync("client-origin", "origin");
        using var _ = owner;
        await using var other = await PagedListServer.StartAsync();
        using var session = new PosternSession(backends.Postern.BaseAddress).WithToken(token.Key!);

        using var response = await session.SendRawAsync(HttpMethod.Get, new Uri(other.BaseAddress, "/echo").ToString(), null);

        var echoed = await response.Content.ReadAsStringAsync();
        Assert.Contains("Host", echoed, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Key!, echoed, StringComparison.Ordinal);
    }
}
