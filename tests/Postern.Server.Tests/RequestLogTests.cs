using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Postern.Protocol;
using Postern.Server.Observability;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The request log: an id per request (a trusted proxy's X-Request-Id, or a new one) echoed in the response and carried
/// by every line of the request, one line per request; and no secret in any line, whatever a client sends.
/// </summary>
public sealed class RequestLogTests
{
    private static async Task<(PosternTestServer Server, EveryLogLine Log)> StartAsync(Dictionary<string, string?>? settings = null,
        LogLevel level = LogLevel.Trace)
    {
        var log = new EveryLogLine();
        var all = new Dictionary<string, string?>(EveryLogLine.Settings(level));
        foreach (var (key, value) in settings ?? [])
            all[key] = value;
        var server = await PosternTestServer.StartAsync(all, services: s => s.AddSingleton<ILoggerProvider>(log));
        return (server, log);
    }

    private static async Task<string> RequestIdAsync(PosternTestServer server, string? sent)
    {
        using var client = server.CreateRawClient();
        var response = await client.SendAsync(HttpMethod.Get, EndpointPaths.Csrf,
            sent is null ? [] : [(RequestLoggingMiddleware.HeaderName, sent)]);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        return Assert.Single(response.Headers.GetValues(RequestLoggingMiddleware.HeaderName));
    }

    [Fact]
    public async Task WithoutATrustedProxyEveryRequestGetsANewId()
    {
        var (server, _) = await StartAsync(level: LogLevel.Warning);
        await using var _ = server;
        var first = await RequestIdAsync(server, null);
        Assert.Matches("^[0-9a-f]{32}$", first);
        Assert.NotEqual(first, await RequestIdAsync(server, null));
        // A client's own id is not taken: nothing vouches for it.
        Assert.Matches("^[0-9a-f]{32}$", await RequestIdAsync(server, "chosen-by-the-client"));
    }

    [Fact]
    public async Task ATrustedProxysWellFormedIdIsTakenAndEchoed()
    {
        var (server, _) = await StartAsync(new() { ["Postern:Proxy:TrustForwardedProto"] = "true" }, LogLevel.Warning);
        await using var _ = server;
        Assert.Equal("3f2a9c0e8d1b4a6f9e7c5b3a1d0f2e4c", await RequestIdAsync(server, "3f2a9c0e8d1b4a6f9e7c5b3a1d0f2e4c"));
        Assert.Equal("req-1.a:b_C", await RequestIdAsync(server, "req-1.a:b_C"));
        // Ill-formed ones are replaced: they would go into every log line.
        foreach (var bad in new[] { "with space", "<script>", "a\"b", new string('a', RequestLoggingMiddleware.MaxRequestIdLength + 1) })
            Assert.Matches("^[0-9a-f]{32}$", await RequestIdAsync(server, bad));
    }

    [Fact]
    public async Task NamedProxiesAreTrustedOnlyFromTheirAddresses()
    {
        var (elsewhere, _) = await StartAsync(new() { ["Postern:Proxy:TrustedProxies:0"] = "10.0.0.0/8" }, LogLevel.Warning);
        await using (elsewhere)
            Assert.Matches("^[0-9a-f]{32}$", await RequestIdAsync(elsewhere, "from-loopback"));
        var (here, _) = await StartAsync(new() { ["Postern:Proxy:TrustedProxies:0"] = "127.0.0.1" }, LogLevel.Warning);
        await using (here)
            Assert.Equal("from-loopback", await RequestIdAsync(here, "from-loopback"));
    }

    [Fact]
    public async Task EachRequestIsOneLineWithItsRouteStatusUserAndIdAndEveryLineCarriesTheId()
    {
        var (server, log) = await StartAsync(level: LogLevel.Information);
        await using var _ = server;
        var alice = await server.CreateUserAsync("alice", "alice-password");
        var visitor = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("alice", "alice-password")).Status);
        var me = await visitor.GetAsync("/api/users/" + alice.Id + "/");
        Assert.Equal(HttpStatusCode.OK, me.Status);
        var id = Assert.Single(me.Headers.GetValues(RequestLoggingMiddleware.HeaderName));

        var lines = log.Lines.Where(l => l.Category == RequestLoggingMiddleware.Category && l.Text.Contains(id, StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("GET /api/users/{id}/ answered 200 in ", line.Text, StringComparison.Ordinal);
        Assert.Contains($"(user {alice.Id}, request {id})", line.Text, StringComparison.Ordinal);
        Assert.Contains($"[XRequestId={id}]", line.Text, StringComparison.Ordinal);
        // The login's line: its user is the one who signed in; an anonymous request has none.
        Assert.Contains(log.Lines, l => l.Text.Contains("POST /auth/login answered 200", StringComparison.Ordinal)
            && l.Text.Contains($"(user {alice.Id},", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Text.Contains("GET /auth/csrf answered 200", StringComparison.Ordinal)
            && l.Text.Contains("(user (null), request", StringComparison.Ordinal));
        // Every line logged while serving a request (the audit trail's, here) carries its id in a scope.
        Assert.Contains(log.Lines, l => l.Category.EndsWith("AuditTrail", StringComparison.Ordinal) && l.Text.Contains("[XRequestId=", StringComparison.Ordinal));
    }

    /// <summary>
    /// Logs in wrongly and rightly in the ways the bad-input suite tries (malformed, truncated and oversized bodies in each
    /// content type, odd encodings, wrong and absurd cookies, CSRF tokens, API tokens and two-factor codes), with every log
    /// line kept at every level, Trace included: no password, session key, CSRF secret or token, API token key, TOTP secret
    /// or code appears in any line, its properties or its scopes.
    /// </summary>
    [Fact]
    public async Task NoSecretReachesTheLogWhateverAClientSends()
    {
        var (server, log) = await StartAsync(new() { ["Postern:Proxy:TrustForwardedProto"] = "true" });
        await using var _ = server;
        const string password = "Pw-7f3a9c1e-right";
        await server.CreateUserAsync("alice", password);
        var twoFactor = await TwoFactorUser.CreateAsync(server, "mallory", "Pw-2b8d6e4a-second");
        var secrets = new List<string> { password, twoFactor.Password, OtpNet.Base32Encoding.ToString(twoFactor.Secret) };
        string Wrong(int i)
        {
            var wrong = $"Pw-wrong-{i:D3}-{Guid.NewGuid():N}";
            secrets.Add(wrong);
            return wrong;
        }

        var visitor = new Visitor(server.CreateRawClient());
        await visitor.GetAsync(EndpointPaths.Csrf);
        var csrf = visitor.CsrfCookie!;
        secrets.Add(csrf);
        var address = server.BaseAddress;
        (string, string)[] csrfHeaders = [("Cookie", $"csrftoken={csrf}"), ("X-CSRFToken", csrf)];
        Task<SocketResponse> PostAsync(string path, string? contentType, byte[] body, params (string, string)[] extra) =>
            SocketHttp.ExchangeAsync(address, SocketHttp.Head("POST", path, address,
            [
                .. csrfHeaders, .. contentType is null ? Array.Empty<(string, string)>() : [("Content-Type", contentType)],
                ("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)), .. extra,
            ]), body);
        Task<SocketResponse> LoginAsync(string? contentType, string latin1) =>
            PostAsync(EndpointPaths.Login, contentType, Encoding.Latin1.GetBytes(latin1));

        // JSON: wrong, malformed, truncated, wrong types, lone surrogates, invalid UTF-8, odd escapes, other encodings.
        var i = 0;
        foreach (var shape in new Func<string, string>[]
        {
            p => $$"""{"username": "alice", "password": "{{p}}"}""",
            p => $$"""{"username": "alice", "password": "{{p}}" """,
            p => $$"""{"username": "alice", "password": "{{p}}""",
            p => $$"""{"username": 5, "password": "{{p}}"}""",
            p => $$"""{"username": "alice", "password": ["{{p}}"]}""",
            p => $$"""{"username": "alice", "password": "{{p}}\ud800"}""",
            p => $$"""{"username": "alice", "password": "{{p}}\u0000"}""",
            p => $$"""{"username": "alice", "password": "{{p}}""" + "\xff\xfe\"}",
            p => $$"""["alice", "{{p}}"]""",
            p => $$"""{"username": "{{p}}", "password": "{{p}}"}""",
            p => $$"""{"username": "alice", "password": "{{p}}", "password": "{{p}}"}""",
            p => new string('[', 100) + p,
        })
            await LoginAsync("application/json", shape(Wrong(i++)));
        await PostAsync(EndpointPaths.Login, "application/json", Encoding.Unicode.GetBytes($$"""{"username": "alice", "password": "{{Wrong(i++)}}"}"""));
        await PostAsync(EndpointPaths.Login, "application/json; charset=utf-16", Encoding.UTF32.GetBytes($$"""{"password": "{{Wrong(i++)}}"}"""));
        // Forms: wrong, invalid UTF-8 and escapes, odd charsets, too many fields, an overlong key.
        await LoginAsync("application/x-www-form-urlencoded", $"username=alice&password={Wrong(i++)}");
        await LoginAsync("application/x-www-form-urlencoded", $"username=alice&password={Wrong(i++)}%ff%fe%");
        await LoginAsync("application/x-www-form-urlencoded; charset=ebcdic", $"username=alice&password={Wrong(i++)}");
        await LoginAsync("application/x-www-form-urlencoded", string.Concat(Enumerable.Repeat("a=b&", 5000)) + $"password={Wrong(i++)}");
        await LoginAsync("application/x-www-form-urlencoded", new string('k', 3000) + $"={Wrong(i++)}&password={Wrong(i++)}");
        // Multipart: wrong, truncated, without a boundary.
        var multipart = $"--xyz\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--xyz\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{Wrong(i++)}\r\n--xyz--\r\n";
        await LoginAsync("multipart/form-data; boundary=xyz", multipart);
        await LoginAsync("multipart/form-data; boundary=xyz", multipart[..(multipart.Length - 12)]);
        await LoginAsync("multipart/form-data", $"--xyz\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{Wrong(i++)}");
        // Other content types, none at all, a password over the length limit, a body over the size limit.
        await LoginAsync("text/plain", $"username=alice&password={Wrong(i++)}");
        await LoginAsync(null, $$"""{"username": "alice", "password": "{{Wrong(i++)}}"}""");
        await LoginAsync("application/json", $$"""{"username": "alice", "password": "{{Wrong(i++) + new string('x', 4097)}}"}""");
        await LoginAsync("application/json", $$"""{"username": "alice", "password": "{{Wrong(i++) + new string('x', 1_100_000)}}"}""");
        await LoginAsync("application/json", $$"""{"username": "{{Wrong(i++) + new string('u', 10_000)}}", "password": "x"}""");

        // Absurd and wrong CSRF cookies and headers (a secret-like value each).
        var forgedCsrf = CsrfToken.NewSecret();
        var forgedMasked = CsrfToken.Mask(CsrfToken.NewSecret());
        secrets.AddRange([forgedCsrf, forgedMasked]);
        await SocketHttp.ExchangeAsync(address, SocketHttp.Head("POST", EndpointPaths.Login, address,
            ("Cookie", $"csrftoken={forgedCsrf}"), ("X-CSRFToken", forgedMasked), ("Content-Length", "0")));
        await SocketHttp.ExchangeAsync(address, SocketHttp.Head("POST", EndpointPaths.Login, address,
            ("Cookie", $"csrftoken={forgedCsrf}!!"), ("X-CSRFToken", forgedMasked + "x"), ("Content-Length", "0")));

        // The right password: a session and a new CSRF secret, used; then forged session keys.
        var signedIn = new Visitor(server.CreateRawClient());
        var login = await signedIn.LoginAsync("alice", password);
        Assert.Equal(HttpStatusCode.OK, login.Status);
        secrets.Add(signedIn.SessionCookie!);
        secrets.Add(signedIn.CsrfCookie!);
        Assert.Equal(HttpStatusCode.OK, (await signedIn.GetAsync("/auth/user")).Status);
        var forgedSession = SessionKey.New();
        secrets.Add(forgedSession);
        using (var raw = server.CreateRawClient())
        {
            await raw.SendAsync(HttpMethod.Get, "/auth/user", [("Cookie", $"sessionid={forgedSession}")]);
            await SocketHttp.ExchangeAsync(address, SocketHttp.Head("GET", "/auth/user", address,
                ("Cookie", $"sessionid={forgedSession}\u00ff; csrftoken={forgedCsrf}"), ("X-Request-Id", "\u00e9t\u00e9")));
        }

        // An API token, used, and forged and malformed ones.
        var token = await signedIn.PostWithTokenAsync("/api/tokens/", RawHttp.Json("""{"name": "log test"}"""));
        Assert.Equal(HttpStatusCode.Created, token.Status);
        var key = token.Json().GetProperty("key").GetString()!;
        secrets.Add(key);
        var forgedKey = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        secrets.Add(forgedKey);
        using (var raw = server.CreateRawClient())
        {
            Assert.Equal(HttpStatusCode.OK, (await raw.SendAsync(HttpMethod.Get, "/api/users/", [("Authorization", $"Token {key}")])).Status);
            await raw.SendAsync(HttpMethod.Get, "/api/users/", [("Authorization", $"Token {forgedKey}")]);
            await raw.SendAsync(HttpMethod.Get, "/api/users/", [("Authorization", $"Token {forgedKey} extra")]);
            await raw.SendAsync(HttpMethod.Post, "/api/tokens/", [("Authorization", $"Token {key}")], RawHttp.Json("""{"name": "x"}"""));
        }
        Assert.Equal(HttpStatusCode.OK, (await signedIn.PostWithTokenAsync(EndpointPaths.Logout)).Status);

        // Two factors: the password, a wrong code, malformed codes, the right code.
        var mfa = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await mfa.LoginAsync(twoFactor.Username, twoFactor.Password)).Status);
        var right = twoFactor.CodeAt(DateTimeOffset.UtcNow);
        var wrongCode = ((int.Parse(right, System.Globalization.CultureInfo.InvariantCulture) + 500_000) % 1_000_000).ToString("D6",
            System.Globalization.CultureInfo.InvariantCulture);
        secrets.AddRange([right, wrongCode]);
        await mfa.PostWithTokenAsync(EndpointPaths.MfaAuthenticate, RawHttp.Json($$"""{"code": "{{wrongCode}}"}"""));
        await mfa.PostWithTokenAsync(EndpointPaths.MfaAuthenticate, RawHttp.Json($$"""{"code": {{wrongCode}}}"""));
        await mfa.PostWithTokenAsync(EndpointPaths.MfaAuthenticate, RawHttp.Json($$"""{"code": "{{wrongCode}}"""));
        Assert.Equal(HttpStatusCode.OK, (await mfa.PostWithTokenAsync(EndpointPaths.MfaAuthenticate, RawHttp.Json($$"""{"code": "{{right}}"}"""))).Status);
        secrets.Add(mfa.SessionCookie!);

        var lines = log.Lines;
        Assert.True(lines.Count > 100, $"Only {lines.Count} lines were logged: is the capture at Trace?");
        foreach (var secret in secrets)
        {
            // Six-digit codes as whole words: hex ids may hold any six digits inside them.
            var pattern = new Regex(secret.Length == 6 ? $"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])" : Regex.Escape(secret));
            var leaks = lines.Where(l => pattern.IsMatch(l.Text)).Select(l => l.Text).ToList();
            Assert.True(leaks.Count == 0, $"'{secret}' was logged:\n{string.Join("\n", leaks.Take(3))}");
        }
    }
}

/// <summary><c>Postern:Logging:Format</c>: the JSON console format, as an operator's log collector reads it from stdout.</summary>
public sealed class JsonLogFormatTests
{
    [Fact]
    public async Task WithTheJsonFormatEveryLineIsAJsonObjectAndTheRequestLineHasItsFields()
    {
        var folder = Directory.CreateTempSubdirectory("postern-json-log-").FullName;
        try
        {
            await using var serve = await ServeProcess.StartAsync(folder, Path.Combine(folder, "db.sqlite3"),
                environment: new Dictionary<string, string?> { ["Postern__Logging__Format"] = "json" });
            using var client = RawHttp.CreateClient(serve.Address);
            var response = await client.SendAsync(HttpMethod.Get, EndpointPaths.Csrf);
            var id = Assert.Single(response.Headers.GetValues(RequestLoggingMiddleware.HeaderName));

            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!serve.Stdout.Contains(id, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            var lines = serve.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            // The serve command's own words at start come before logging does, as plain text (docs/configuration.md#logs).
            string[] plain = ["Database: ", "Created the first user ", "It is shown only this once"];
            Assert.All(lines.Where(line => !line.StartsWith('{')),
                line => Assert.Contains(plain, start => line.StartsWith(start, StringComparison.Ordinal)));
            lines = [.. lines.Where(line => line.StartsWith('{'))];
            Assert.NotEmpty(lines);
            var objects = lines.Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement.Clone()).ToList();
            // One line per request (the start's readiness probes have theirs, written when each response completed,
            // so not necessarily before ours): no request id twice.
            var requestIds = objects.Where(o => o.GetProperty("Category").GetString() == RequestLoggingMiddleware.Category)
                .Select(o => o.GetProperty("State").GetProperty("RequestId").GetString()).ToList();
            Assert.Equal(requestIds.Count, requestIds.Distinct().Count());
            var request = Assert.Single(objects, o => o.GetProperty("Category").GetString() == RequestLoggingMiddleware.Category
                && o.GetProperty("State").GetProperty("RequestId").GetString() == id);
            Assert.Equal("Information", request.GetProperty("LogLevel").GetString());
            var state = request.GetProperty("State");
            Assert.Equal("GET", state.GetProperty("Method").GetString());
            Assert.Equal(EndpointPaths.Csrf, state.GetProperty("Route").GetString());
            Assert.Equal(200, state.GetProperty("StatusCode").GetInt32());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, state.GetProperty("UserId").ValueKind);
            Assert.Equal(id, state.GetProperty("RequestId").GetString());
            Assert.Contains(request.GetProperty("Scopes").EnumerateArray(),
                scope => scope.TryGetProperty("XRequestId", out var scoped) && scoped.GetString() == id);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", request.GetProperty("Timestamp").GetString()!);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task AnUnknownFormatStopsTheServerWithAMessage()
    {
        var folder = Directory.CreateTempSubdirectory("postern-json-log-").FullName;
        try
        {
            var result = await PosternProcess.RunAsync(folder, ["serve", "--db", Path.Combine(folder, "db.sqlite3"), "--urls", "http://127.0.0.1:0"],
                environment: new Dictionary<string, string?> { ["Postern__Logging__Format"] = "xml" });
            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("'xml' is neither text nor json", result.Stdout + result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
