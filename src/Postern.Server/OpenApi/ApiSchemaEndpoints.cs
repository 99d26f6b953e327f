using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Postern.Server.Accounts;
using Postern.Server.Api;
using Postern.Server.Csrf;
using Postern.Server.Http;
using Postern.Server.Sessions;
using Postern.Server.Throttling;

namespace Postern.Server.OpenApi;

/// <summary>The document written in one form, with the validator a client revalidates it by.</summary>
public sealed record SerializedSchema(byte[] Bytes, string ETag)
{
    /// <summary>A strong validator of these bytes: each form has its own, as the two are different representations.</summary>
    public static SerializedSchema Of(byte[] bytes) => new(bytes, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..32] + "\"");
}

/// <summary>
/// The OpenAPI document of this server, built and written on first use and kept: it depends only on the declarations and
/// the settings, and its server URL is relative, so one copy is right for every scheme and host.
/// </summary>
public sealed class ApiSchemaDocument(RouteTable routes, IOptions<ServerSessionOptions> sessions, IOptions<CsrfOptions> csrf,
    IOptions<ApiOptions> api, IOptions<AccountOptions> accounts, IOptions<LimitOptions> limits, IOptions<ThrottlingOptions> throttling)
{
    private readonly Lazy<Task<(SerializedSchema Json, SerializedSchema Yaml)>> _serialized = new(() => SerializeAsync(Build(routes,
        new DocumentedSettings(sessions.Value.CookieName, csrf.Value.CookieName, api.Value.PageSize, api.Value.MaxPageSize,
            accounts.Value.LogoutAllowsGet, limits.Value.MaxRequestBodyBytes)
        {
            ApiAnonRate = throttling.Value.ApiAnonLimit is null ? null : throttling.Value.ApiAnonRate,
            ApiUserRate = throttling.Value.ApiUserLimit is null ? null : throttling.Value.ApiUserRate,
        })));

    public async Task<SerializedSchema> GetAsync(bool yaml)
    {
        var (json, yamlForm) = await _serialized.Value;
        return yaml ? yamlForm : json;
    }

    /// <summary>The object model, for tests that inspect it rather than its text.</summary>
    internal static OpenApiDocument Build(RouteTable routes, DocumentedSettings settings) =>
        OpenApiDocumentBuilder.Build(routes, settings);

    private static async Task<(SerializedSchema, SerializedSchema)> SerializeAsync(OpenApiDocument document)
    {
        using var json = new MemoryStream();
        await document.SerializeAsJsonAsync(json, OpenApiSpecVersion.OpenApi3_1);
        using var yaml = new MemoryStream();
        await document.SerializeAsYamlAsync(yaml, OpenApiSpecVersion.OpenApi3_1);
        return (SerializedSchema.Of(json.ToArray()), SerializedSchema.Of(yaml.ToArray()));
    }
}

/// <summary>
/// <c>GET /api/schema/</c> (the document; anyone may read it, as DRF's schema view) and <c>GET /api/docs/</c> (the reference
/// page over it). <c>Postern:Api:Schema:Enabled=false</c> maps neither: both are then the site's 404.
/// </summary>
public static class ApiSchemaEndpoints
{
    public const string SchemaPath = "/api/schema/";
    public const string DocsPath = "/api/docs/";
    public const string YamlMediaType = "application/yaml";

    private const string Allow = "GET, HEAD";

    public static bool IsEnabled(IConfiguration configuration) =>
        configuration.GetSection(ApiOptions.Section).Get<ApiOptions>()?.Schema.Enabled ?? new ApiSchemaOptions().Enabled;

    public static IEndpointRouteBuilder MapApiSchema(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value.Schema.Enabled)
            return app;
        // As DRF's views: a signed-in unsafe request is CSRF-checked (before its 405), an anonymous one is not.
        app.Map(SchemaPath, ServeAsync).RequireCsrf(CsrfEnforcement.AuthenticatedSessionsOnly);
        app.MapApiReferencePage(DocsPath, SchemaPath);
        return app;
    }

    private enum Format
    {
        Json,
        Yaml,
        Unknown,
        NotAcceptable,
    }

    private static async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        VaryHeader.Add(response, "Accept");
        // DRF's order: the format first, then the session's CSRF check, then the throttles, then the method.
        var format = Negotiate(request);
        if (format == Format.Unknown)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status404NotFound, ApiResponse.NotFoundDetail);
            return;
        }
        if (format == Format.NotAcceptable)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status406NotAcceptable, OperationParts.NotAcceptableDetail);
            return;
        }
        if (await context.RequestServices.GetRequiredService<CsrfProtection>().RefusalAsync(context) is { } refusal)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, refusal);
            return;
        }
        // The API's throttles, as DRF's schema view is throttled like any other: after the CSRF check, before the method.
        var throttle = context.RequestServices.GetRequiredService<ApiThrottle>();
        if (throttle.InForce && await throttle.CheckAsync(context, await context.GetRequestUser().GetUserAsync()) is > 0 and var wait)
        {
            response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status429TooManyRequests, LoginThrottle.Detail(wait));
            return;
        }
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            await JsonResponses.WriteMethodNotAllowedAsync(context, Allow);
            return;
        }
        var document = await context.RequestServices.GetRequiredService<ApiSchemaDocument>().GetAsync(yaml: format == Format.Yaml);
        response.Headers.ETag = document.ETag;
        // Revalidated at each use: a new version of the server changes it.
        response.Headers.CacheControl = "no-cache";
        if (request.Headers.IfNoneMatch.Any(tag => tag == document.ETag || tag == "*"))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        var body = document.Bytes;
        response.ContentType = format == Format.Yaml ? YamlMediaType + "; charset=utf-8" : JsonResponses.ContentType;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(request.Method))
            await response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>
    /// <c>?format=json|yaml</c> (and DRF's names, <c>openapi-json</c> and <c>openapi</c>) wins; otherwise the Accept header's
    /// most preferred type that names JSON or YAML, JSON for anything (<c>*/*</c>, a browser's Accept).
    /// </summary>
    private static Format Negotiate(HttpRequest request)
    {
        if (request.Query.TryGetValue("format", out var asked))
        {
            return asked.ToString() switch
            {
                "json" or "openapi-json" => Format.Json,
                "yaml" or "openapi" => Format.Yaml,
                _ => Format.Unknown,
            };
        }
        var accept = request.Headers.Accept.ToString();
        if (accept.Length == 0 || !MediaTypeHeaderValue.TryParseList([accept], out var types))
            return Format.Json;
        foreach (var type in types.Where(t => t.Quality is not 0).OrderByDescending(t => t.Quality ?? 1))
        {
            switch (type.MediaType.Value?.ToLowerInvariant())
            {
                case "application/json" or "application/openapi+json" or "application/vnd.oai.openapi+json" or "*/*" or "application/*":
                    return Format.Json;
                case YamlMediaType or "application/x-yaml" or "text/yaml" or "application/openapi+yaml" or "application/vnd.oai.openapi":
                    return Format.Yaml;
            }
        }
        return Format.NotAcceptable;
    }
}
