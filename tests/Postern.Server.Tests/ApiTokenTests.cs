using System.Net;
using System.Text.Json;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// API tokens (<c>/api/tokens/</c>, <c>Authorization: Token &lt;key&gt;</c>): made by a signed-in session, shown once,
/// used without cookies or CSRF, refused in DRF's words, ended by revocation, a password change or deactivation.
/// </summary>
public sealed class ApiTokenTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Password = "pw-12345678";
    private readonly PosternTestServer _server = fixture.Server;

    private async Task<Visitor> SignedInAsync(string username, bool staff = false)
    {
        if (await _server.Users.FindUserByUsernameAsync(username) is null)
            await _server.CreateUserAsync(username, Password, staff);
        var visitor = new Visitor(_server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, Password)).Status);
        return visitor;
    }

    private static async Task<JsonElement> CreateTokenAsync(Visitor owner, string name = "script")
    {
        var created = await owner.PostWithTokenAsync(ApiToken.ListPath, RawHttp.Json($$"""{"name": "{{name}}"}"""));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return created.Json();
    }

    /// <summary>A request with this Authorization header and nothing else: no cookie, no CSRF token.</summary>
    private Task<RawResponse> SendAsync(HttpMethod method, string path, string authorization, HttpContent? content = null) =>
        _server.CreateRawClient().SendAsync(method, path, [("Authorization", authorization)], content);

    private Task<RawResponse> WithTokenAsync(string key, string path) => SendAsync(HttpMethod.Get, path, ApiToken.HeaderValue(key));

    private static void AssertRefused(RawResponse response, string detail)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal(detail, response.Detail);
        Assert.Equal(ApiToken.Keyword, response.Header("WWW-Authenticate"));
    }

    [Fact]
    public async Task TheKeyIsShownOnceInTheCreateAnswerAndNeverAgain()
    {
        var owner = await SignedInAsync("token-once");
        var created = await owner.PostWithTokenAsync(ApiToken.ListPath, RawHttp.Json("""{"name": "backup script"}"""));

        Assert.Equal(HttpStatusCode.Created, created.Status);
        var body = created.Json();
        var key = body.GetProperty("key").GetString()!;
        Assert.Matches("^[0-9a-f]{40}$", key);
        Assert.Equal(key[..8], body.GetProperty("prefix").GetString());
        Assert.Equal("backup script", body.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("last_used").ValueKind);
        var url = body.GetProperty("url").GetString()!;
        Assert.Equal(url, created.Header("Location"));
        Assert.EndsWith("/api/users/" + (await _server.Users.FindUserByUsernameAsync("token-once"))!.Id + "/",
            body.GetProperty("user").GetString());

        var retrieved = await owner.GetAsync(new Uri(url).AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, retrieved.Status);
        Assert.False(retrieved.Json().TryGetProperty("key", out _));
        var list = await owner.GetAsync(ApiToken.ListPath);
        Assert.DoesNotContain(key, list.Body, StringComparison.Ordinal);
        Assert.Equal("backup script", list.Json().GetProperty("results")[0].GetProperty("name").GetString());

        // Only a hash is stored: the key appears in no column.
        var stored = await _server.ExecuteSqlAsync("UPDATE api_tokens SET name = name WHERE key_hash = @key OR prefix = @key;", ("@key", key));
        Assert.Equal(0, stored);
    }

    [Fact]
    public async Task ATokenAuthenticatesTheApiAndCurrentUserWithoutCookies()
    {
        var key = (await CreateTokenAsync(await SignedInAsync("token-reader"))).GetProperty("key").GetString()!;

        var users = await WithTokenAsync(key, "/api/users/");
        Assert.Equal(HttpStatusCode.OK, users.Status);
        Assert.Empty(users.Cookies);
        Assert.DoesNotContain("Cookie", users.Headers.Vary);
        var me = await WithTokenAsync(key, EndpointPaths.User);
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal("token-reader", me.Json().GetProperty("username").GetString());
        Assert.Empty(me.Cookies);

        // The keyword is matched ignoring case, as DRF's is.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, EndpointPaths.User, "token " + key)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, EndpointPaths.User, "TOKEN\t" + key)).Status);
    }

    [Fact]
    public async Task AnUnsafeRequestWithATokenNeedsNoCsrfToken()
    {
        var key = (await CreateTokenAsync(await SignedInAsync("token-staff", staff: true))).GetProperty("key").GetString()!;

        var created = await SendAsync(HttpMethod.Post, "/api/groups/", ApiToken.HeaderValue(key), RawHttp.Json("""{"name": "made-by-token"}"""));

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Empty(created.Cookies);
    }

    [Theory]
    [InlineData("Token", ApiToken.NoCredentials)]
    [InlineData("Token   ", ApiToken.NoCredentials)]
    [InlineData("Token abc def", ApiToken.ContainsSpaces)]
    [InlineData("Token 0000000000000000000000000000000000000000", ApiToken.InvalidToken)]
    [InlineData("Token not-a-key", ApiToken.InvalidToken)]
    public async Task ABadTokenHeaderIsRefusedInDrfsWords(string authorization, string detail)
    {
        AssertRefused(await SendAsync(HttpMethod.Get, "/api/users/", authorization), detail);
        AssertRefused(await SendAsync(HttpMethod.Get, EndpointPaths.User, authorization), detail);
        // Before the CSRF check, which a token request does not get: the unsafe request is refused for its token.
        AssertRefused(await SendAsync(HttpMethod.Post, "/api/groups/", authorization, RawHttp.Json("""{"name": "x"}""")), detail);
        AssertRefused(await SendAsync(HttpMethod.Post, EndpointPaths.Login, authorization,
            RawHttp.Json("""{"username": "bob", "password": "bob-password"}""")), detail);
    }

    [Fact]
    public async Task AKeyThatIsNotUtf8IsRefusedAsDrfRefusesIt()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, EndpointPaths.User);
        request.Headers.TryAddWithoutValidation("Authorization", "Token \u00ff\u00fe");
        // HttpClient sends header values as Latin-1 when told to; the server decodes them so.
        var client = new HttpClient(new SocketsHttpHandler
        {
            RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.Latin1,
        })
        { BaseAddress = _server.BaseAddress };
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(ApiToken.InvalidCharacters, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Basic Ym9iOmJvYi1wYXNzd29yZA==")]
    [InlineData("Bearer 0000000000000000000000000000000000000000")]
    [InlineData("Tokens 0000000000000000000000000000000000000000")]
    public async Task OtherSchemesAreIgnoredAndTheRequestIsAnonymous(string authorization)
    {
        var response = await SendAsync(HttpMethod.Get, "/api/users/", authorization);

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("Authentication credentials were not provided.", response.Detail);
        Assert.Null(response.Header("WWW-Authenticate"));
    }

    [Fact]
    public async Task AnAnonymousRequestIsStillRefusedWithA403()
    {
        var response = await _server.CreateRawClient().SendAsync(HttpMethod.Get, ApiToken.ListPath);

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Null(response.Header("WWW-Authenticate"));
    }

    [Fact]
    public async Task ATokenDecidesEvenBesideAValidSessionCookie()
    {
        var owner = await SignedInAsync("token-beside-session");
        var response = await owner.GetAsync(EndpointPaths.User, ("Authorization", "Token 0000000000000000000000000000000000000000"));

        AssertRefused(response, ApiToken.InvalidToken);
    }

    [Fact]
    public async Task ARevokedTokenIsInvalid()
    {
        var owner = await SignedInAsync("token-revoked");
        var token = await CreateTokenAsync(owner);
        var key = token.GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await WithTokenAsync(key, EndpointPaths.User)).Status);

        var revoked = await owner.SendAsync(HttpMethod.Delete, new Uri(token.GetProperty("url").GetString()!).AbsolutePath, null,
            (HeaderNames.CsrfToken, owner.CsrfCookie!));

        Assert.Equal(HttpStatusCode.NoContent, revoked.Status);
        AssertRefused(await WithTokenAsync(key, EndpointPaths.User), ApiToken.InvalidToken);
    }

    [Fact]
    public async Task APasswordChangeEndsEveryTokenOfTheUser()
    {
        var owner = await SignedInAsync("token-password");
        var first = (await CreateTokenAsync(owner, "one")).GetProperty("key").GetString()!;
        var second = (await CreateTokenAsync(owner, "two")).GetProperty("key").GetString()!;

        var changed = await owner.PostWithTokenAsync(EndpointPaths.PasswordChange, RawHttp.Json(
            """{"old_password": "pw-12345678", "new_password1": "a-new-pw-2345", "new_password2": "a-new-pw-2345"}"""));

        Assert.Equal(HttpStatusCode.OK, changed.Status);
        AssertRefused(await WithTokenAsync(first, EndpointPaths.User), ApiToken.InvalidToken);
        AssertRefused(await WithTokenAsync(second, "/api/users/"), ApiToken.InvalidToken);
        Assert.Equal(0, (await owner.GetAsync(ApiToken.ListPath)).Json().GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task APasswordWrittenByAnotherToolEndsTheTokenToo()
    {
        var owner = await SignedInAsync("token-other-tool");
        var key = (await CreateTokenAsync(owner)).GetProperty("key").GetString()!;
        var user = (await _server.Users.FindUserByUsernameAsync("token-other-tool"))!;

        // Past the server's stores and cache: only the tie to the password can notice.
        await _server.ExecuteSqlAsync("UPDATE users SET password = 'pbkdf2_sha256$1000$salt$other' WHERE id = @id;", ("@id", user.Id));

        AssertRefused(await WithTokenAsync(key, EndpointPaths.User), ApiToken.InvalidToken);
    }

    [Fact]
    public async Task ADeactivatedUsersTokenIsRefusedAndWorksAgainOnReactivation()
    {
        var owner = await SignedInAsync("token-inactive");
        var key = (await CreateTokenAsync(owner)).GetProperty("key").GetString()!;
        var user = (await _server.Users.FindUserByUsernameAsync("token-inactive"))!;

        await _server.Users.SetActiveAsync(user.Id, false);
        AssertRefused(await WithTokenAsync(key, EndpointPaths.User), ApiToken.UserInactive);

        // DRF keeps a deactivated user's token: it is the user, not the token, that is refused.
        await _server.Users.SetActiveAsync(user.Id, true);
        Assert.Equal(HttpStatusCode.OK, (await WithTokenAsync(key, EndpointPaths.User)).Status);
    }

    [Fact]
    public async Task DeletingTheUserDeletesTheirTokens()
    {
        var owner = await SignedInAsync("token-deleted");
        var key = (await CreateTokenAsync(owner)).GetProperty("key").GetString()!;
        var user = (await _server.Users.FindUserByUsernameAsync("token-deleted"))!;

        await _server.Users.DeleteUserAsync(user.Id);

        AssertRefused(await WithTokenAsync(key, EndpointPaths.User), ApiToken.InvalidToken);
        Assert.Equal(0, await _server.ExecuteSqlAsync("UPDATE api_tokens SET name = name WHERE user_id = @id;", ("@id", user.Id)));
    }

    [Fact]
    public async Task ATokenCannotMakeTokensChangeThePasswordOrTheAddressOrLogInOrOut()
    {
        var key = (await CreateTokenAsync(await SignedInAsync("token-limits", staff: true))).GetProperty("key").GetString()!;
        var user = (await _server.Users.FindUserByUsernameAsync("token-limits"))!;
        var header = ApiToken.HeaderValue(key);

        var create = await SendAsync(HttpMethod.Post, ApiToken.ListPath, header, RawHttp.Json("""{"name": "child"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, create.Status);
        Assert.Equal("An API token cannot create API tokens: sign in with a session.", create.Detail);

        var change = await SendAsync(HttpMethod.Post, EndpointPaths.PasswordChange, header, RawHttp.Json(
            """{"old_password": "pw-12345678", "new_password1": "a-new-pw-2345", "new_password2": "a-new-pw-2345"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, change.Status);
        Assert.Equal("An API token cannot change the password: sign in with a session.", change.Detail);

        var setOwn = await SendAsync(HttpMethod.Post, $"/api/users/{user.Id}/set_password/", header,
            RawHttp.Json("""{"password": "a-new-pw-2345"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, setOwn.Status);
        Assert.Equal("An API token cannot change the password: sign in with a session.", setOwn.Detail);

        var profile = await SendAsync(HttpMethod.Patch, EndpointPaths.User, header, RawHttp.Json("""{"email": "thief@example.org"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, profile.Status);

        var login = await SendAsync(HttpMethod.Post, EndpointPaths.Login, header, RawHttp.Json("""{"username": "bob", "password": "bob-password"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, login.Status);
        Assert.Empty(login.Cookies);
        var logout = await SendAsync(HttpMethod.Post, EndpointPaths.Logout, header);
        Assert.Equal(HttpStatusCode.Forbidden, logout.Status);

        // And the token still works: nothing above changed the password.
        Assert.Equal(HttpStatusCode.OK, (await WithTokenAsync(key, EndpointPaths.User)).Status);
    }

    [Fact]
    public async Task AUserSeesOnlyTheirOwnTokensAndOthersAreNotFound()
    {
        var owner = await SignedInAsync("token-owner");
        var other = await SignedInAsync("token-other");
        var token = await CreateTokenAsync(owner, "mine");
        await CreateTokenAsync(other, "theirs");
        var path = new Uri(token.GetProperty("url").GetString()!).AbsolutePath;

        var list = (await other.GetAsync(ApiToken.ListPath)).Json();
        Assert.Equal(1, list.GetProperty("count").GetInt32());
        Assert.Equal("theirs", list.GetProperty("results")[0].GetProperty("name").GetString());
        var peek = await other.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, peek.Status);
        Assert.Equal("No Token matches the given query.", peek.Detail);
        var delete = await other.SendAsync(HttpMethod.Delete, path, null, (HeaderNames.CsrfToken, other.CsrfCookie!));
        Assert.Equal(HttpStatusCode.NotFound, delete.Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(path)).Status);
    }

    [Fact]
    public async Task StaffSeeAndRevokeAnyonesToken()
    {
        var owner = await SignedInAsync("token-victim");
        var token = await CreateTokenAsync(owner, "leaked");
        var key = token.GetProperty("key").GetString()!;
        var staff = await SignedInAsync("token-admin", staff: true);
        var path = new Uri(token.GetProperty("url").GetString()!).AbsolutePath;

        Assert.Equal("leaked", (await staff.GetAsync(path)).Json().GetProperty("name").GetString());
        var revoked = await staff.SendAsync(HttpMethod.Delete, path, null, (HeaderNames.CsrfToken, staff.CsrfCookie!));

        Assert.Equal(HttpStatusCode.NoContent, revoked.Status);
        AssertRefused(await WithTokenAsync(key, EndpointPaths.User), ApiToken.InvalidToken);
    }

    [Fact]
    public async Task TheListIsPaginated()
    {
        var owner = await SignedInAsync("token-many");
        for (var i = 0; i < 12; i++)
            await CreateTokenAsync(owner, $"token {i}");

        var first = (await owner.GetAsync(ApiToken.ListPath)).Json();
        Assert.Equal(12, first.GetProperty("count").GetInt32());
        Assert.Equal(10, first.GetProperty("results").GetArrayLength());
        var next = first.GetProperty("next").GetString()!;
        var second = (await owner.GetAsync(new Uri(next).PathAndQuery)).Json();
        Assert.Equal(["token 10", "token 11"], second.GetProperty("results").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task ANameIsRequiredAndLimited()
    {
        var owner = await SignedInAsync("token-names");

        var missing = await owner.PostWithTokenAsync(ApiToken.ListPath, RawHttp.Json("{}"));
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        Assert.Equal("This field is required.", missing.Json().GetProperty("name")[0].GetString());
        var tooLong = await owner.PostWithTokenAsync(ApiToken.ListPath, RawHttp.Json($$"""{"name": "{{new string('n', 101)}}"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.Status);
        Assert.Equal("Ensure this field has no more than 100 characters.", tooLong.Json().GetProperty("name")[0].GetString());
        // Without the session's CSRF token, a session may not make one.
        var forged = await owner.SendAsync(HttpMethod.Post, ApiToken.ListPath, RawHttp.Json("""{"name": "forged"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, forged.Status);
        Assert.StartsWith("CSRF Failed:", forged.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptionsDescribesTheFieldsTheKeyAsReadOnly()
    {
        var owner = await SignedInAsync("token-options");
        var options = await owner.SendAsync(HttpMethod.Options, ApiToken.ListPath);

        Assert.Equal(HttpStatusCode.OK, options.Status);
        var post = options.Json().GetProperty("actions").GetProperty("POST");
        Assert.True(post.GetProperty("name").GetProperty("required").GetBoolean());
        Assert.Equal(100, post.GetProperty("name").GetProperty("max_length").GetInt32());
        Assert.True(post.GetProperty("key").GetProperty("read_only").GetBoolean());
    }

    [Fact]
    public async Task ALastUseIsRecorded()
    {
        var owner = await SignedInAsync("token-last-use");
        var token = await CreateTokenAsync(owner);
        var key = token.GetProperty("key").GetString()!;

        Assert.Equal(HttpStatusCode.OK, (await WithTokenAsync(key, EndpointPaths.User)).Status);

        var shown = (await owner.GetAsync(new Uri(token.GetProperty("url").GetString()!).AbsolutePath)).Json();
        Assert.Equal(JsonValueKind.String, shown.GetProperty("last_used").ValueKind);
    }
}
