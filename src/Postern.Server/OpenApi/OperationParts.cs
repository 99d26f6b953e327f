using System.Text.Json.Nodes;
using Microsoft.OpenApi;

using Postern.Server.Api;

namespace Postern.Server.OpenApi;

/// <summary>What the document tells about this server's settings (cookie names, page sizes, logout by GET, the body limit).</summary>
public sealed record DocumentedSettings(
    string SessionCookie,
    string CsrfCookie,
    int PageSize,
    int MaxPageSize,
    bool LogoutAllowsGet,
    long MaxRequestBodyBytes)
{
    /// <summary>The API's <c>anon</c> rate as configured (Postern:Throttling:ApiAnonRate), when in force; null: off.</summary>
    public string? ApiAnonRate { get; init; }

    /// <summary>The API's <c>user</c> rate as configured (Postern:Throttling:ApiUserRate), when in force; null: off.</summary>
    public string? ApiUserRate { get; init; }

    public bool ApiThrottled => ApiAnonRate is not null || ApiUserRate is not null;
}

/// <summary>
/// The pieces operations are assembled from, written once: the error answers with DRF's words, the security requirements
/// (the session cookie; the CSRF token pair for unsafe methods), the media types a write accepts.
/// </summary>
internal sealed class OperationParts(OpenApiDocument document, ResourceSchemas schemas, DocumentedSettings settings)
{
    public const string SessionScheme = "sessionCookie";
    public const string CsrfCookieScheme = "csrfCookie";
    public const string CsrfHeaderScheme = "csrfHeader";
    public const string ApiTokenScheme = "tokenAuth";

    public const string Json = "application/json";
    public const string UrlEncoded = "application/x-www-form-urlencoded";
    public const string Multipart = "multipart/form-data";
    public const string Html = "text/html";

    public DocumentedSettings Settings => settings;

    public ResourceSchemas Schemas => schemas;

    /// <summary>
    /// The schemes: a browser sends the session cookie, and on unsafe methods the CSRF cookie and header together; any other
    /// client may send an API token instead, alone.
    /// </summary>
    public IDictionary<string, IOpenApiSecurityScheme> SecuritySchemes() => new Dictionary<string, IOpenApiSecurityScheme>
    {
        [SessionScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = settings.SessionCookie,
            Description = "The session, set by POST /auth/login (or the browsable API's /api-auth/login/). HttpOnly: a browser "
                + "sends it by itself.",
        },
        [CsrfCookieScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = settings.CsrfCookie,
            Description = "The CSRF secret, set by GET /auth/csrf and rotated at login. Unsafe methods need it together with "
                + "the X-CSRFToken header.",
        },
        [CsrfHeaderScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = Protocol.HeaderNames.CsrfToken,
            Description = "The CSRF token (the cookie's value, or the masked token GET /auth/csrf returns), on every POST, PUT, "
                + "PATCH and DELETE. A form may send it as the csrfmiddlewaretoken field instead.",
        },
        [ApiTokenScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = "Authorization",
            Description = $"{Protocol.ApiToken.Keyword} <key>: an API token from POST /api/tokens/ (DRF's TokenAuthentication). "
                + "Needs no cookie and no CSRF token; cannot create tokens or change the password. A bad token is a 401.",
        },
    };

    /// <summary>Any one of <paramref name="alternatives"/>, each a set of schemes sent together; an empty set: none needed.</summary>
    public List<OpenApiSecurityRequirement> Security(params string[][] alternatives) =>
    [
        .. alternatives.Select(schemes =>
        {
            var requirement = new OpenApiSecurityRequirement();
            foreach (var scheme in schemes)
                requirement[new OpenApiSecuritySchemeReference(scheme, document)] = [];
            return requirement;
        }),
    ];

    public static readonly string[] None = [];
    public static readonly string[] Session = [SessionScheme];
    public static readonly string[] TokenPair = [CsrfCookieScheme, CsrfHeaderScheme];
    public static readonly string[] SessionAndTokenPair = [SessionScheme, CsrfCookieScheme, CsrfHeaderScheme];
    public static readonly string[] ApiToken = [ApiTokenScheme];

    /// <summary>A <c>{"detail": ...}</c> answer, with DRF's words for each case as examples.</summary>
    public OpenApiResponse Detail(string description, params (string Name, string Detail)[] examples)
    {
        var media = new OpenApiMediaType { Schema = schemas.Error() };
        if (examples.Length > 0)
        {
            media.Examples = examples.ToDictionary(e => e.Name, e => (IOpenApiExample)new OpenApiExample
            {
                Summary = e.Detail,
                Value = new JsonObject { ["detail"] = e.Detail },
            });
        }
        return new OpenApiResponse { Description = description, Content = new Dictionary<string, IOpenApiMediaType> { [Json] = media } };
    }

    public IOpenApiResponse Unavailable() => Shared("ServiceUnavailable", () => WithRetryAfter(Detail(
        "The database (or, when configured, Redis for a write) does not answer; nothing changed. Retry after a second.",
        ("unavailable", "Service temporarily unavailable, try again shortly."))));

    public IOpenApiResponse TooLarge() => Shared("RequestBodyTooLarge", () => Detail(
        $"The body is over the server's limit ({settings.MaxRequestBodyBytes:N0} bytes, Postern:Limits:MaxRequestBodyBytes).",
        ("tooLarge", "Request body too large.")));

    public const string NotAcceptableDetail = "Could not satisfy the request Accept header.";

    public IOpenApiResponse NotAcceptable() => Shared("NotAcceptable", () => Detail(
        "The Accept header names nothing this path can answer with.", ("notAcceptable", NotAcceptableDetail)));

    public IOpenApiResponse UnsupportedMediaType() => Shared("UnsupportedMediaType", () => Detail(
        "The body is neither JSON, a urlencoded form nor a multipart form.",
        ("unsupported", "Unsupported media type \"text/plain\" in request.")));

    /// <summary>A login while the account or the address is locked, or an action asked for too often (Postern:Throttling).</summary>
    public IOpenApiResponse Throttled() => Shared("Throttled", () =>
    {
        var response = Detail("Too many failed logins for this account or from this address (locked; the password is not even "
                + "hashed), or an action asked for too often (Postern:Throttling:Rates).",
            ("throttled", "Request was throttled. Expected available in 60 seconds."));
        response.Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["Retry-After"] = Header("Seconds until the lock ends.", new OpenApiSchema { Type = JsonSchemaType.Integer }),
        };
        return response;
    });

    /// <summary>An API request over the API's rates (Postern:Throttling:ApiAnonRate, ApiUserRate); only when one is set.</summary>
    public IOpenApiResponse ApiThrottled() => Shared("ApiThrottled", () =>
    {
        var rates = new List<string>();
        if (settings.ApiAnonRate is { } anon)
            rates.Add($"{anon} per client address without a user (ApiAnonRate)");
        if (settings.ApiUserRate is { } user)
            rates.Add($"{user} per user, and per client address without one (ApiUserRate)");
        var response = Detail($"More requests than the API's rates allow: {string.Join("; ", rates)}. Counted after "
                + "authentication and permissions, in fixed windows shared by every instance.",
            ("throttled", "Request was throttled. Expected available in 60 seconds."));
        response.Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["Retry-After"] = Header("Seconds until the rate's window ends.", new OpenApiSchema { Type = JsonSchemaType.Integer }),
        };
        return response;
    });

    /// <summary>A request whose Authorization header names a token that does not authenticate, in DRF's words.</summary>
    public IOpenApiResponse BadToken() => Shared("InvalidToken", () =>
    {
        var response = Detail("The Authorization header names the Token scheme, but no valid token (revoked, ended by a password "
                + "change, or its user deactivated).",
            ("invalidToken", Protocol.ApiToken.InvalidToken), ("userInactive", Protocol.ApiToken.UserInactive),
            ("noCredentials", Protocol.ApiToken.NoCredentials), ("spaces", Protocol.ApiToken.ContainsSpaces));
        response.Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["WWW-Authenticate"] = Header($"\"{Protocol.ApiToken.Keyword}\".", new OpenApiSchema { Type = JsonSchemaType.String }),
        };
        return response;
    });

    /// <summary>An answer many operations give alike, described once in the components.</summary>
    private OpenApiResponseReference Shared(string id, Func<OpenApiResponse> build)
    {
        var responses = document.Components!.Responses ??= new Dictionary<string, IOpenApiResponse>();
        if (!responses.ContainsKey(id))
            responses[id] = build();
        return new OpenApiResponseReference(id, document);
    }

    /// <summary>The same body in the three encodings DRF parses; forms repeat a key for each item of a list.</summary>
    public static OpenApiRequestBody Body(IOpenApiSchema schema, bool required, string description) => new()
    {
        Description = description,
        Required = required,
        Content = new Dictionary<string, IOpenApiMediaType>
        {
            [Json] = new OpenApiMediaType { Schema = schema },
            [UrlEncoded] = new OpenApiMediaType { Schema = schema },
            [Multipart] = new OpenApiMediaType { Schema = schema },
        },
    };

    public static OpenApiResponse JsonAnswer(string description, IOpenApiSchema schema) => new()
    {
        Description = description,
        Content = new Dictionary<string, IOpenApiMediaType> { [Json] = new OpenApiMediaType { Schema = schema } },
    };

    public static OpenApiResponse HtmlPage(string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, IOpenApiMediaType>
        {
            [Html] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
        },
    };

    public static OpenApiHeader Header(string description, OpenApiSchema schema) => new() { Description = description, Schema = schema };

    /// <summary>A URL, absolute (<c>uri</c>) or maybe relative (<c>uri-reference</c>, a redirect's).</summary>
    public static OpenApiSchema Url(bool absolute) => new() { Type = JsonSchemaType.String, Format = absolute ? "uri" : "uri-reference" };

    private static OpenApiResponse WithRetryAfter(OpenApiResponse response)
    {
        response.Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["Retry-After"] = Header("Seconds to wait before retrying: 1.", new OpenApiSchema { Type = JsonSchemaType.Integer }),
        };
        return response;
    }

    /// <summary>An operation id or component name from words: "Revoke Other Sessions" → RevokeOtherSessions.</summary>
    public static string Pascal(string words) => string.Concat(
        words.Split([' ', '-', '_', '.'], StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    public static string Camel(string words)
    {
        var pascal = Pascal(words);
        return pascal.Length == 0 ? pascal : char.ToLowerInvariant(pascal[0]) + pascal[1..];
    }
}
