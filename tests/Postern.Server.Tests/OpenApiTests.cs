using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// <c>/api/schema/</c> and <c>/api/docs/</c> over real HTTP: the document is valid OpenAPI 3.1 by a real validator (Redocly
/// CLI, from npm), in JSON and in YAML; every operation it declares is answered on a live server; every route the server
/// maps is in it; its schemas say what the declarations say; the setting turns both paths off.
/// </summary>
public sealed partial class OpenApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly string[] Methods = ["get", "put", "post", "patch", "delete", "head", "options", "trace"];

    private readonly PosternTestServer _server = fixture.Server;

    private Visitor Anonymous() => new(_server.CreateRawClient());

    private async Task<Visitor> StaffAsync()
    {
        var visitor = Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("alice", "alice-password")).Status);
        return visitor;
    }

    private async Task<JsonElement> DocumentAsync() => (await Anonymous().GetAsync("/api/schema/")).Json();

    [Theory]
    [InlineData("json", "/api/schema/", "")]
    [InlineData("yaml", "/api/schema/?format=yaml", "")]
    [InlineData("yaml", "/api/schema/", "application/yaml")]
    public async Task TheDocumentIsValidOpenApi31ByRedocly(string form, string path, string accept)
    {
        var response = await Anonymous().GetAsync(path, accept.Length > 0 ? [("Accept", accept)] : []);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.StartsWith(form == "json" ? "application/json" : "application/yaml", response.ContentType, StringComparison.Ordinal);
        Assert.Matches(form == "json" ? "^\\{\\s*\"openapi\": \"3\\.1\\.\\d+\"" : "^openapi: '?3\\.1\\.\\d+'?\\n", response.Body);
        var file = Path.Combine(_server.Folder, $"openapi-{Guid.NewGuid():N}.{form}");
        await File.WriteAllTextAsync(file, response.Body);
        var lint = await RedoclyLint.LintAsync(file);
        Assert.True(lint.ExitCode == 0, $"Redocly found problems in the {form} document:\n{lint}");
    }

    [Fact]
    public async Task TheDocumentIsNegotiatedCachedAndReadOnly()
    {
        var visitor = Anonymous();
        var json = await visitor.GetAsync("/api/schema/");
        Assert.Equal("Accept", json.Header("Vary")?.Split(", ")[0]);
        var etag = json.Header("ETag");
        Assert.NotNull(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await visitor.GetAsync("/api/schema/", ("If-None-Match", etag))).Status);
        // Two representations, two validators: a cached JSON copy never stands for the YAML one.
        var yaml = await visitor.GetAsync("/api/schema/?format=yaml", ("If-None-Match", etag));
        Assert.Equal(HttpStatusCode.OK, yaml.Status);
        Assert.NotEqual(etag, yaml.Header("ETag"));
        Assert.Equal(json.Body, (await visitor.GetAsync("/api/schema/?format=openapi-json")).Body);
        var preferred = await visitor.GetAsync("/api/schema/", ("Accept", "text/html;q=0.9, application/yaml"));
        Assert.StartsWith("application/yaml", preferred.ContentType, StringComparison.Ordinal);
        var browser = await visitor.GetAsync("/api/schema/", ("Accept", "text/html,*/*;q=0.8"));
        Assert.StartsWith("application/json", browser.ContentType, StringComparison.Ordinal);
        var refused = await visitor.GetAsync("/api/schema/", ("Accept", "text/plain"));
        Assert.Equal((HttpStatusCode.NotAcceptable, "Could not satisfy the request Accept header."), (refused.Status, refused.Detail));
        Assert.Equal((HttpStatusCode.NotFound, "Not found."), await StatusAndDetailAsync(visitor.GetAsync("/api/schema/?format=xml")));
        var head = await visitor.SendAsync(HttpMethod.Head, "/api/schema/");
        Assert.Equal((HttpStatusCode.OK, ""), (head.Status, head.Body));
        Assert.Equal(json.ContentHeaders.ContentLength, head.ContentHeaders.ContentLength);
        var post = await visitor.SendAsync(HttpMethod.Post, "/api/schema/");
        Assert.Equal((HttpStatusCode.MethodNotAllowed, "GET, HEAD"), (post.Status, post.Header("Allow")));
        // Signed in, an unsafe request is judged for CSRF first, as by DRF's session authentication.
        var staff = await StaffAsync();
        Assert.Equal((HttpStatusCode.Forbidden, "CSRF Failed: CSRF token missing."),
            await StatusAndDetailAsync(staff.SendAsync(HttpMethod.Post, "/api/schema/")));
        Assert.Null(json.Cookie(Protocol.CookieNames.Session));
    }

    [Fact]
    public async Task ASignedInReaderGetsBothAndAHyperlinkToThemIsAnIncorrectMatch()
    {
        // The session and CSRF middleware let a signed-in GET through as an anonymous one.
        var staff = await StaffAsync();
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync("/api/schema/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync("/api/docs/")).Status);
        // As Django resolves the schema's URL to its view: a page of the site, but no group.
        var user = (await staff.GetAsync("/api/users/")).Json().GetProperty("results")[0].GetProperty("url").GetString()!;
        var origin = _server.BaseAddress.GetLeftPart(UriPartial.Authority);
        var refused = await staff.SendAsync(HttpMethod.Patch, new Uri(user).AbsolutePath,
            RawHttp.Json($$"""{"groups": ["{{origin}}/api/schema/"]}"""), (Protocol.HeaderNames.CsrfToken, staff.CsrfCookie!));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("Invalid hyperlink - Incorrect URL match.", refused.Json().GetProperty("groups")[0].GetString());
    }

    private static async Task<(HttpStatusCode, string?)> StatusAndDetailAsync(Task<RawResponse> sending)
    {
        var response = await sending;
        return (response.Status, response.Detail);
    }

    /// <summary>
    /// Each operation of the document, sent by a freshly signed-in staff user with a body made from the operation's own
    /// request schema and real ids, gets one of the answers the operation declares, never 404 or 405.
    /// </summary>
    [Fact]
    public async Task EveryDeclaredOperationIsAnsweredOnALiveServer()
    {
        var document = await DocumentAsync();
        var answered = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            // DELETE last: the object stays for the other methods.
            var operations = path.Value.EnumerateObject().Where(p => Methods.Contains(p.Name)).OrderBy(p => p.Name == "delete").ToList();
            foreach (var concretePath in await ConcretePathsAsync(document, path.Name, path.Value))
            {
                foreach (var operation in operations)
                {
                    var visitor = await StaffAsync();
                    var response = await SendAsync(visitor, document, operation.Name, concretePath, operation.Value);
                    var declared = operation.Value.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
                    var what = $"{operation.Name.ToUpperInvariant()} {concretePath} answered {response.StatusCode}: "
                        + response.Body[..Math.Min(300, response.Body.Length)];
                    Assert.True(response.StatusCode is not (404 or 405), what);
                    Assert.True(declared.Contains(response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        $"{what}; the document declares {string.Join(", ", declared)}");
                    answered.Add($"{operation.Name} {path.Name}");
                }
            }
        }
        Assert.Contains("post /api/users/", answered);
        Assert.Contains("delete /api/sessions/{id}/", answered);
        Assert.Contains("post /auth/login", answered);
        Assert.Contains("get /readyz", answered);
    }

    /// <summary>
    /// The path with its parameters filled: an object made for the purpose where the collection takes POST (a user, a group),
    /// otherwise one the request does not stand on (another session of the same user); each value of an enumerated parameter.
    /// </summary>
    private async Task<IReadOnlyList<string>> ConcretePathsAsync(JsonElement document, string template, JsonElement pathItem)
    {
        if (!template.Contains('{', StringComparison.Ordinal))
            return [template];
        var parameter = pathItem.TryGetProperty("parameters", out var shared)
            ? shared[0]
            : pathItem.EnumerateObject().First(p => Methods.Contains(p.Name)).Value.GetProperty("parameters")[0];
        var name = parameter.GetProperty("name").GetString()!;
        var schema = parameter.GetProperty("schema");
        if (schema.TryGetProperty("enum", out var values))
            return [.. values.EnumerateArray().Select(v => template.Replace($"{{{name}}}", v.GetString(), StringComparison.Ordinal))];
        var collection = template[..template.IndexOf('{', StringComparison.Ordinal)];
        if (!document.GetProperty("paths").TryGetProperty(collection, out _))
        {
            // A page reached by an e-mailed link (its uid and token, its key): a made-up value gets the page that says so.
            return [System.Text.RegularExpressions.Regex.Replace(template, "{[^}]+}", "made-up")];
        }
        var visitor = await StaffAsync();
        string id;
        var collectionItem = document.GetProperty("paths").GetProperty(collection);
        if (collectionItem.TryGetProperty("post", out var create))
        {
            var created = await SendAsync(visitor, document, "post", collection, create);
            Assert.True(created.StatusCode == 201, $"POST {collection} answered {created.StatusCode}: {created.Body}");
            id = LastSegment(created.Header("Location")!);
        }
        else
        {
            // A second sign-in: an object of the same user that this request does not stand on (its session).
            await StaffAsync();
            var results = (await visitor.GetAsync(collection + "?page_size=100")).Json().GetProperty("results").EnumerateArray();
            var other = results.Last(r => !(r.TryGetProperty("current", out var current) && current.GetBoolean()));
            id = LastSegment(other.GetProperty("url").GetString()!);
        }
        return [template.Replace($"{{{name}}}", id, StringComparison.Ordinal)];
    }

    private static string LastSegment(string url) => url.TrimEnd('/').Split('/')[^1];

    private static int _made;

    private static Task<RawResponse> SendAsync(Visitor visitor, JsonElement document, string method, string path, JsonElement operation)
    {
        HttpContent? content = null;
        if (operation.TryGetProperty("requestBody", out var body))
        {
            var media = body.GetProperty("content");
            var schema = media.EnumerateObject().First().Value.GetProperty("schema");
            var value = (JsonObject)Example(document, schema, Interlocked.Increment(ref _made))!;
            if (value.ContainsKey(Protocol.FormFields.CsrfToken))
                value[Protocol.FormFields.CsrfToken] = visitor.CsrfCookie;
            content = media.TryGetProperty("application/json", out _)
                ? RawHttp.Json(value.ToJsonString())
                : RawHttp.Form([.. value.Where(f => f.Value is JsonValue).Select(f => (f.Key, f.Value!.ToString()))]);
        }
        var headers = method is "get" or "head" ? [] : new[] { (Protocol.HeaderNames.CsrfToken, visitor.CsrfCookie!) };
        return visitor.SendAsync(new HttpMethod(method.ToUpperInvariant()), path, content, headers);
    }

    /// <summary>A value the schema accepts: its required properties only, strings unique to this run.</summary>
    private static JsonNode? Example(JsonElement document, JsonElement schema, int serial)
    {
        if (schema.TryGetProperty("$ref", out var reference))
            schema = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
        if (schema.TryGetProperty("const", out var constant))
            return JsonNode.Parse(constant.GetRawText());
        if (schema.TryGetProperty("enum", out var values))
            return JsonNode.Parse(values[0].GetRawText());
        if (schema.TryGetProperty("oneOf", out var options) || schema.TryGetProperty("anyOf", out options))
            return Example(document, options[0], serial);
        var type = schema.GetProperty("type");
        var name = type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().First(t => t.GetString() != "null").GetString()
            : type.GetString();
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        switch (name)
        {
            case "object":
                var value = new JsonObject();
                if (schema.TryGetProperty("required", out var required))
                {
                    foreach (var property in required.EnumerateArray().Select(r => r.GetString()!))
                        value[property] = Example(document, schema.GetProperty("properties").GetProperty(property), serial);
                }
                return value;
            case "array":
                return new JsonArray();
            case "integer":
            case "number":
                return 1;
            case "boolean":
                return true;
            default:
                return format == "email" ? $"openapi{serial}@example.org" : $"openapi{serial}";
        }
    }

    /// <summary>Every route ASP.NET maps is a path of the document (the fallback and DRF's format-suffix twins aside).</summary>
    [Fact]
    public async Task EveryRouteOfTheServerIsInTheDocument()
    {
        var paths = (await DocumentAsync()).GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        var routes = _server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.NotEmpty(routes);
        var checkedRoutes = 0;
        foreach (var route in routes)
        {
            var pattern = route.RoutePattern;
            if (pattern.Parameters.Any(p => p.IsCatchAll) || pattern.Parameters.Any(p => p.Name == "format"))
                continue;
            // An optional last parameter ({documentName?} of the reference page) is the path without it.
            var path = OptionalParameter().Replace(pattern.RawText!, "");
            // A file of the reference page (/api/docs/scalar.js) is one value of the document's /api/docs/{file}.
            var documented = paths.Contains(path)
                || (pattern.Parameters.Count == 0 && paths.Any(p => Regex.IsMatch(path, $"^{AsPattern(p)}$")));
            Assert.True(documented, $"The route {pattern.RawText} ({route.DisplayName}) is not in the document.");
            checkedRoutes++;
        }
        Assert.True(checkedRoutes >= 15, $"only {checkedRoutes} routes found");
    }

    /// <summary>A path template of the document as a regular expression: each {parameter} one segment.</summary>
    private static string AsPattern(string template) => AnyParameter().Replace(Regex.Escape(template), "[^/]+");

    [GeneratedRegex(@"\{[^}]*\?\}")]
    private static partial Regex OptionalParameter();

    [GeneratedRegex(@"\\\{[^}]+}")]
    private static partial Regex AnyParameter();

    [Fact]
    public async Task SchemasSayWhatTheDeclarationsSay()
    {
        var document = await DocumentAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var user = schemas.GetProperty("User");
        Assert.Equal(["url", "username", "email", "groups"], user.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.True(user.GetProperty("properties").GetProperty("url").GetProperty("readOnly").GetBoolean());
        Assert.Equal("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.",
            user.GetProperty("properties").GetProperty("username").GetProperty("description").GetString());
        var request = schemas.GetProperty("UserRequest");
        Assert.Equal(["username", "email", "groups", "is_active", "is_staff", "is_superuser"],
            request.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        // The account flags are shown to staff only, so a response may lack them: not required, and their description says who.
        Assert.EndsWith("Shown to staff only. Only superusers may change it.",
            user.GetProperty("properties").GetProperty("is_staff").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(["username"], request.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.False(schemas.GetProperty("PatchedUserRequest").TryGetProperty("required", out _));
        Assert.Equal(["count", "next", "previous", "results"],
            schemas.GetProperty("PaginatedUserList").GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Contains("null", schemas.GetProperty("Session").GetProperty("properties").GetProperty("user_agent").GetProperty("type")
            .EnumerateArray().Select(t => t.GetString()));

        var users = document.GetProperty("paths").GetProperty("/api/users/");
        Assert.Equal(["page", "page_size"], users.GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Select(p => p.GetProperty("$ref").GetString()!.Split('/')[^1]).Where(n => n != "format"));
        var create = users.GetProperty("post");
        Assert.Equal(["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
            create.GetProperty("requestBody").GetProperty("content").EnumerateObject().Select(c => c.Name));
        Assert.True(create.GetProperty("responses").GetProperty("201").GetProperty("headers").TryGetProperty("Location", out _));
        Assert.Equal(["sessionCookie", "csrfCookie", "csrfHeader"],
            create.GetProperty("security")[0].EnumerateObject().Select(s => s.Name));
        Assert.Equal(["sessionCookie"], users.GetProperty("get").GetProperty("security")[0].EnumerateObject().Select(s => s.Name));
        Assert.Contains("staff users", create.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(["users"], create.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("createUser", create.GetProperty("operationId").GetString());

        // The account flows, described from their declarations.
        var change = document.GetProperty("paths").GetProperty("/auth/password/change").GetProperty("post");
        Assert.Equal("changePassword", change.GetProperty("operationId").GetString());
        Assert.Equal(["sessionCookie", "csrfCookie", "csrfHeader"], change.GetProperty("security")[0].EnumerateObject().Select(s => s.Name));
        var changeForm = schemas.GetProperty("ChangePasswordForm");
        Assert.Equal(["old_password", "new_password1", "new_password2"],
            changeForm.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.True(changeForm.GetProperty("properties").GetProperty("new_password1").GetProperty("writeOnly").GetBoolean());
        Assert.Equal("#/components/schemas/CurrentUser", document.GetProperty("paths").GetProperty("/auth/signup").GetProperty("post")
            .GetProperty("responses").GetProperty("201").GetProperty("content").GetProperty("application/json").GetProperty("schema")
            .GetProperty("$ref").GetString());
        var profile = document.GetProperty("paths").GetProperty("/auth/user").GetProperty("patch");
        // OpenAPI's default for an absent "required" is false: every field of the profile is optional.
        Assert.False(profile.GetProperty("requestBody").TryGetProperty("required", out var bodyRequired) && bodyRequired.GetBoolean());
        Assert.Contains("email_verified", schemas.GetProperty("CurrentUser").GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.True(document.GetProperty("paths").GetProperty("/api/users/{id}/").GetProperty("delete").GetProperty("responses")
            .TryGetProperty("204", out _));

        var security = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal(("apiKey", "cookie", "sessionid"), Scheme(security.GetProperty("sessionCookie")));
        Assert.Equal(("apiKey", "cookie", "csrftoken"), Scheme(security.GetProperty("csrfCookie")));
        Assert.Equal(("apiKey", "header", "X-CSRFToken"), Scheme(security.GetProperty("csrfHeader")));
    }

    private static (string?, string?, string?) Scheme(JsonElement scheme) =>
        (scheme.GetProperty("type").GetString(), scheme.GetProperty("in").GetString(), scheme.GetProperty("name").GetString());

    [Fact]
    public async Task TheDocsPageIsFramedByNobodyAndLoadsOnlyFromThisServer()
    {
        var visitor = Anonymous();
        var page = await visitor.GetAsync("/api/docs/");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.StartsWith("text/html", page.ContentType, StringComparison.Ordinal);
        Assert.Equal("DENY", page.Header("X-Frame-Options"));
        var policy = page.Header("Content-Security-Policy")!;
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        var nonces = NonceAttribute().Matches(page.Body).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Single(nonces);
        Assert.Contains($"'nonce-{nonces[0]}'", policy, StringComparison.Ordinal);
        // A second load draws a new nonce.
        var again = await visitor.GetAsync("/api/docs/");
        Assert.DoesNotContain(nonces[0], again.Header("Content-Security-Policy"), StringComparison.Ordinal);
        var references = ReferenceAttribute().Matches(page.Body).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(references);
        foreach (var reference in references)
        {
            Assert.False(Uri.TryCreate(reference, UriKind.Absolute, out _) || reference.StartsWith("//", StringComparison.Ordinal),
                $"The page loads {reference} from elsewhere.");
            Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/api/docs/" + reference)).Status);
        }
        // HEAD as every page; a name the page does not load is not found, rather than the page again.
        Assert.Equal(HttpStatusCode.OK, (await visitor.SendAsync(HttpMethod.Head, "/api/docs/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync("/api/docs/index.html")).Status);
        Assert.Contains("\"withDefaultFonts\":false", page.Body, StringComparison.Ordinal);
        Assert.Contains("\"telemetry\":false", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("http", ConfigurationObject().Match(page.Body).Value, StringComparison.Ordinal);
    }

    [GeneratedRegex("nonce=\"([^\"]+)\"")]
    private static partial Regex NonceAttribute();

    [GeneratedRegex("(?:src|href)=\"([^\"]+)\"")]
    private static partial Regex ReferenceAttribute();

    [GeneratedRegex(@"\{""withDefaultFonts"".*\}")]
    private static partial Regex ConfigurationObject();

    [Fact]
    public async Task TheSettingTurnsBothPathsOff()
    {
        await using var server = await PosternTestServer.StartAsync(
            new Dictionary<string, string?> { ["Postern:Api:Schema:Enabled"] = "false" });
        var client = server.CreateRawClient();
        foreach (var path in (string[])["/api/schema/", "/api/schema/?format=yaml", "/api/docs/"])
        {
            var response = await client.SendAsync(HttpMethod.Get, path);
            Assert.Equal((HttpStatusCode.NotFound, "Not found."), (response.Status, response.Detail));
        }
        // A path that looks like a file's is no route at all (ASP.NET's fallback leaves those alone): a bare 404.
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(HttpMethod.Get, "/api/docs/scalar.js")).Status);
    }
}
