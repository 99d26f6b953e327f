using System.Text.Json;
using Microsoft.OpenApi;
using Postern.Server.Api;
using Postern.Server.OpenApi;

namespace Postern.Server.Tests;

/// <summary>The document built in process from a resource declared here: what each field declaration becomes.</summary>
public sealed class OpenApiDocumentTests
{
    private sealed record Account(long Id, string Name, string? Nickname);

    private sealed class NoStore : ResourceStore<Account>;

    private static readonly Resource<Account> Accounts = new()
    {
        Name = "Account",
        Path = "accounts",
        Description = "Accounts, declared for this test.",
        Fields =
        [
            new UrlField<Account>(),
            new StringField<Account>("name", a => a.Name) { MaxLength = 20, HelpText = "What people call it." },
            new StringField<Account>("nickname", a => a.Nickname) { AllowNull = true, Required = false },
            new StringField<Account>("secret") { WriteOnly = true, Label = "Secret phrase" },
            new ChoiceField<Account>("kind") { Choices = [("a", "Kind A"), ("b", "Kind B")], Required = false },
            new IntegerField<Account>("score", a => a.Id) { ReadOnly = true, MinValue = 0 },
        ],
        Permissions = [ApiPermissions.IsAuthenticated],
        Operations = Operations.List | Operations.Create | Operations.Retrieve,
        Store = new NoStore(),
        IdOf = a => a.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static async Task<JsonElement> BuildAsync()
    {
        var settings = new DocumentedSettings("sid", "csrf", PageSize: 7, MaxPageSize: 70, LogoutAllowsGet: false,
            MaxRequestBodyBytes: 2048);
        var document = ApiSchemaDocument.Build(new RouteTable([Accounts], []), settings);
        using var stream = new MemoryStream();
        await document.SerializeAsJsonAsync(stream, OpenApiSpecVersion.OpenApi3_1);
        return JsonDocument.Parse(stream.ToArray()).RootElement.Clone();
    }

    [Fact]
    public async Task EachFieldDeclarationBecomesItsSchema()
    {
        var schemas = (await BuildAsync()).GetProperty("components").GetProperty("schemas");
        var shown = schemas.GetProperty("Account").GetProperty("properties");
        Assert.Equal(["url", "name", "nickname", "kind", "score"], shown.EnumerateObject().Select(p => p.Name));
        Assert.True(shown.GetProperty("score").GetProperty("readOnly").GetBoolean());
        Assert.Equal(0, shown.GetProperty("score").GetProperty("minimum").GetInt32());
        Assert.Equal(["null", "string"],
            shown.GetProperty("nickname").GetProperty("type").EnumerateArray().Select(t => t.GetString()).Order());
        Assert.Equal(["a", "b"], shown.GetProperty("kind").GetProperty("enum").EnumerateArray().Select(t => t.GetString()));

        var sent = schemas.GetProperty("AccountRequest");
        Assert.Equal(["name", "nickname", "secret", "kind"], sent.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["name", "secret"], sent.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        var secret = sent.GetProperty("properties").GetProperty("secret");
        Assert.True(secret.GetProperty("writeOnly").GetBoolean());
        Assert.Equal("Secret phrase", secret.GetProperty("title").GetString());
        var name = sent.GetProperty("properties").GetProperty("name");
        Assert.Equal(20, name.GetProperty("maxLength").GetInt32());
        Assert.Equal("What people call it.", name.GetProperty("description").GetString());

        var errors = schemas.GetProperty("AccountValidationError").GetProperty("properties");
        Assert.Equal(["name", "nickname", "secret", "kind", "non_field_errors"], errors.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task OnlyTheDeclaredOperationsAreThere()
    {
        var document = await BuildAsync();
        var paths = document.GetProperty("paths");
        Assert.Equal(["get", "post"], paths.GetProperty("/api/accounts/").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["get", "parameters"], paths.GetProperty("/api/accounts/{id}/").EnumerateObject().Select(p => p.Name).Order());
        Assert.False(paths.GetProperty("/auth/logout").TryGetProperty("get", out _));
        Assert.False(document.GetProperty("components").GetProperty("schemas").TryGetProperty("PatchedAccountRequest", out _));
        Assert.Equal("sid", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("sessionCookie")
            .GetProperty("name").GetString());
        Assert.Contains("at most 70", document.GetProperty("components").GetProperty("parameters").GetProperty("page_size")
            .GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(["api", "accounts", "auth", "api-auth", "health", "schema"],
            document.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal("Accounts, declared for this test.", document.GetProperty("tags")[1].GetProperty("description").GetString());
    }
}
