using Microsoft.OpenApi;
using Postern.Protocol;
using Postern.Server.Accounts;
using Postern.Server.Api;
using Postern.Server.Browsable;
using Postern.Server.Health;
using Postern.Server.Sessions;

namespace Postern.Server.OpenApi;

/// <summary>
/// The paths outside the route table: the sign-in protocol under <c>/auth/</c>, the browsable API's login form, the health
/// probes and this document. They are plain endpoints with no declarations to derive from, so each is described here, with
/// the same words and bodies the endpoints use (docs/protocol.md tells the same story).
/// </summary>
internal sealed class SiteEndpointDescriptions(OpenApiDocument document, OperationParts parts)
{
    public const string AuthTag = "auth";
    public const string LoginFormTag = "api-auth";
    public const string HealthTag = "health";
    public const string SchemaTag = "schema";

    /// <summary>The user as GET /auth/user shows it; sign-up and PATCH /auth/user answer with it too.</summary>
    public const string CurrentUserSchemaId = "CurrentUser";

    private const string MalformedBody = "Malformed request body.";

    private ResourceSchemas Schemas => parts.Schemas;

    public static IEnumerable<OpenApiTag> Tags() =>
    [
        new()
        {
            Name = AuthTag,
            Description = "Signing in and out (the protocol of docs/protocol.md): GET /auth/csrf for the token pair, POST "
                + "/auth/login for the session cookie. Each path also answers with a trailing slash (/auth/login/).",
        },
        new() { Name = LoginFormTag, Description = "The browsable API's HTML login form (Django's LoginView and LogoutView)." },
        new() { Name = HealthTag, Description = "Probes for orchestrators and load balancers: no cookie is read or set." },
        new() { Name = SchemaTag, Description = "This document, and the interactive reference page over it." },
    ];

    public void AddPaths(OpenApiPaths paths)
    {
        paths[EndpointPaths.Csrf] = Item(HttpMethod.Get, CsrfToken());
        paths[EndpointPaths.Login] = Item(HttpMethod.Post, Login());
        var logout = Item(HttpMethod.Post, Logout(viaGet: false));
        if (parts.Settings.LogoutAllowsGet)
            logout.AddOperation(HttpMethod.Get, Logout(viaGet: true));
        paths[EndpointPaths.Logout] = logout;
        paths[EndpointPaths.User] = Item(HttpMethod.Get, CurrentUser());
        var loginPage = Item(HttpMethod.Get, LoginPage());
        loginPage.AddOperation(HttpMethod.Post, LoginForm());
        paths[LoginPages.LoginPath] = loginPage;
        paths[LoginPages.LogoutPath] = Item(HttpMethod.Post, LogoutForm());
        paths[HealthEndpointsMiddleware.LivenessPath] = Item(HttpMethod.Get, Liveness());
        paths[HealthEndpointsMiddleware.ReadinessPath] = Item(HttpMethod.Get, Readiness());
        paths[ApiSchemaEndpoints.SchemaPath] = Item(HttpMethod.Get, SchemaDocument());
        paths[ApiSchemaEndpoints.DocsPath] = Item(HttpMethod.Get, ReferencePage());
        paths[ApiSchemaEndpoints.DocsPath + "{file}"] = Item(HttpMethod.Get, ReferencePageFile());
    }

    private static OpenApiPathItem Item(HttpMethod method, OpenApiOperation operation)
    {
        var item = new OpenApiPathItem();
        item.AddOperation(method, operation);
        return item;
    }

    private OpenApiOperation Operation(string id, string tag, string summary, string description, string[][] security) => new()
    {
        OperationId = id,
        Summary = summary,
        Description = description,
        Tags = new HashSet<OpenApiTagReference> { new(tag, document) },
        Security = parts.Security(security),
        Responses = [],
    };

    private OpenApiOperation CsrfToken()
    {
        var operation = Operation("getCsrfToken", AuthTag, "Get a CSRF token",
            "Sets the csrftoken cookie (a valid one keeps its secret) and answers a freshly masked token: send either in the "
                + "X-CSRFToken header of every unsafe request.",
            [OperationParts.None]);
        var body = Schemas.Register("CsrfToken", () => new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "csrfToken" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["csrfToken"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    MinLength = Protocol.CsrfToken.MaskedLength,
                    MaxLength = Protocol.CsrfToken.MaskedLength,
                    Description = "A masked token: different at every call, valid as long as the cookie's secret.",
                },
            },
        });
        var answer = OperationParts.JsonAnswer("The token, also in the X-CSRFToken header; the cookie is set.", body);
        answer.Headers = new Dictionary<string, IOpenApiHeader>
        {
            [HeaderNames.CsrfToken] = OperationParts.Header("The same masked token.", new OpenApiSchema { Type = JsonSchemaType.String }),
            ["Set-Cookie"] = SetCookie($"{parts.Settings.CsrfCookie}=<32-character secret>; Path=/; SameSite=Lax; 52 weeks"),
        };
        operation.Responses!["200"] = answer;
        return operation;
    }

    private OpenApiOperation Login()
    {
        var operation = Operation("login", AuthTag, "Log in",
            "Checks the credentials, opens a brand-new session (the one the request carried is deleted) and rotates the CSRF "
                + "secret: read the csrftoken cookie again afterwards. Wrong password, unknown and inactive users get the same "
                + "answer in the same time.",
            [OperationParts.TokenPair, [OperationParts.CsrfCookieScheme]]);
        var credentials = Schemas.Register("Credentials", () => new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { FormFields.Username, FormFields.Password },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                [FormFields.Username] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 },
                [FormFields.Password] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    MaxLength = DjangoPasswordHash.MaxPasswordLength,
                    WriteOnly = true,
                },
                [FormFields.CsrfToken] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "Forms only: the CSRF token, instead of the X-CSRFToken header.",
                },
            },
        });
        operation.RequestBody = OperationParts.Body(credentials, required: true, "The credentials.");
        var succeeded = Schemas.Register("LoginSucceeded", () => new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "detail", "username" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = "Successfully logged in." },
                ["username"] = new OpenApiSchema { Type = JsonSchemaType.String },
            },
        });
        var answer = OperationParts.JsonAnswer("Signed in.", succeeded);
        answer.Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["Set-Cookie"] = SetCookie(
                $"{parts.Settings.SessionCookie}=<32 characters>; HttpOnly; 2 weeks; and {parts.Settings.CsrfCookie}=<a new secret>"),
        };
        var responses = operation.Responses!;
        responses["200"] = answer;
        responses["400"] = parts.Detail("A body without both fields, malformed, or a password over 4,096 characters (refused unhashed).",
            ("missing", "Both username and password are required."),
            ("malformed", MalformedBody),
            ("tooLong", $"Ensure the password has no more than {DjangoPasswordHash.MaxPasswordLength} characters."));
        responses["401"] = parts.Detail("Wrong password, unknown or inactive user.", ("invalid", "Invalid username or password."));
        responses["403"] = CsrfRefusal();
        responses["413"] = parts.TooLarge();
        responses["429"] = parts.Throttled();
        responses["503"] = parts.Unavailable();
        return operation;
    }

    private OpenApiOperation Logout(bool viaGet)
    {
        var operation = viaGet
            ? Operation("logoutByGet", AuthTag, "Log out (GET)",
                "As the frontend guide documents. Any site can log your users out with a link to it: turn it off with "
                    + "Postern:Accounts:LogoutAllowsGet=false once your frontend logs out with POST.",
                [OperationParts.Session, OperationParts.None])
            : Operation("logout", AuthTag, "Log out",
                "Deletes the session on the server and expires the cookie; signed out already is fine.",
                [OperationParts.SessionAndTokenPair, OperationParts.TokenPair]);
        var answer = parts.Detail("Signed out.", ("loggedOut", "Successfully logged out."));
        answer.Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["Set-Cookie"] = SetCookie($"{parts.Settings.SessionCookie}=\"\"; Max-Age=0"),
        };
        operation.Responses!["200"] = answer;
        if (!viaGet)
            operation.Responses["403"] = CsrfRefusal();
        operation.Responses["503"] = parts.Unavailable();
        return operation;
    }

    private OpenApiOperation CurrentUser()
    {
        var operation = Operation("currentUser", AuthTag, "Who is signed in", "The session's user, or the API token's.",
            [OperationParts.Session, OperationParts.ApiToken]);
        var user = Schemas.Register(CurrentUserSchemaId, () => new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "url", "username", "email", "first_name", "last_name", "is_staff", "email_verified", "reauthentication_seconds_left" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["url"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri", Description = "The user in the API." },
                ["username"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["email"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["first_name"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["last_name"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["is_staff"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "May write users and groups." },
                ["email_verified"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Boolean,
                    Description = "The present address was confirmed by its link (or set by staff).",
                },
                ["reauthentication_seconds_left"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Minimum = "0",
                    Description = "How long this session's last authentication (its login, or POST /auth/reauthenticate) still "
                        + "counts for the sensitive actions (Postern:Accounts:ReauthSeconds); 0 when another is needed.",
                },
            },
        });
        operation.Responses!["200"] = OperationParts.JsonAnswer("The signed-in user.", user);
        operation.Responses["401"] = parts.BadToken();
        operation.Responses["403"] = parts.Detail("Not signed in.", ("notSignedIn", ApiPipeline.NotAuthenticated));
        operation.Responses["503"] = parts.Unavailable();
        return operation;
    }

    private OpenApiOperation LoginPage()
    {
        var operation = Operation("loginPage", LoginFormTag, "Login form",
            $"The HTML form; sets the {parts.Settings.CsrfCookie} cookie.", [OperationParts.None]);
        operation.Parameters = [Next()];
        operation.Responses!["200"] = OperationParts.HtmlPage("The form, with the token in its csrfmiddlewaretoken field.");
        return operation;
    }

    private OpenApiOperation LoginForm()
    {
        var operation = Operation("submitLoginForm", LoginFormTag, "Submit the login form",
            "Signs in and redirects to next; wrong credentials show the form again with an error.",
            [[OperationParts.CsrfCookieScheme], OperationParts.TokenPair]);
        var form = Schemas.Register("LoginForm", () => new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { FormFields.Username, FormFields.Password, FormFields.CsrfToken },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                [FormFields.Username] = new OpenApiSchema { Type = JsonSchemaType.String },
                [FormFields.Password] = new OpenApiSchema { Type = JsonSchemaType.String, WriteOnly = true },
                ["next"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Where to go once signed in (this site)." },
                [FormFields.CsrfToken] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The form's CSRF token." },
            },
        });
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                [OperationParts.UrlEncoded] = new OpenApiMediaType { Schema = form },
                [OperationParts.Multipart] = new OpenApiMediaType { Schema = form },
            },
        };
        var responses = operation.Responses!;
        responses["200"] = OperationParts.HtmlPage("Wrong credentials: the form again, with Django's error.");
        responses["302"] = Redirect("Signed in: to next, or /api/.");
        responses["403"] = CsrfRefusal();
        responses["413"] = parts.TooLarge();
        responses["429"] = OperationParts.HtmlPage("Locked (Postern:Throttling): the form again, saying how long to wait, with Retry-After.");
        responses["503"] = parts.Unavailable();
        return operation;
    }

    private OpenApiOperation LogoutForm()
    {
        var operation = Operation("submitLogoutForm", LoginFormTag, "Log out (the browsable API's button)",
            "Ends the session and redirects to next (GET is refused, as in Django 5).",
            [OperationParts.SessionAndTokenPair, OperationParts.TokenPair]);
        operation.Parameters = [Next()];
        operation.Responses!["302"] = Redirect("Signed out: to next, or /api/.");
        operation.Responses["403"] = CsrfRefusal();
        operation.Responses["503"] = parts.Unavailable();
        return operation;
    }

    private OpenApiOperation Liveness()
    {
        var operation = Operation("liveness", HealthTag, "Liveness probe", "The process answers; no I/O. HEAD too.",
            [OperationParts.None]);
        operation.Responses!["200"] = OperationParts.JsonAnswer("Alive: {\"status\": \"ok\"}.", Health());
        return operation;
    }

    private OpenApiOperation Readiness()
    {
        var operation = Operation("readiness", HealthTag, "Readiness probe",
            "The database answers a trivial query, and Redis a PING when configured, within 3 seconds. HEAD too.", [OperationParts.None]);
        operation.Responses!["200"] = OperationParts.JsonAnswer("Ready: {\"status\": \"ready\"}.", Health());
        operation.Responses["503"] = OperationParts.JsonAnswer("Not ready: {\"status\": \"unavailable\", \"detail\": ...}.", Health());
        return operation;
    }

    private OpenApiSchemaReference Health() => Schemas.Register("Health", () => new OpenApiSchema
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "status" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = ["ok", "ready", "unavailable"] },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What does not answer." },
        },
    });

    private OpenApiOperation SchemaDocument()
    {
        var operation = Operation("openApiDocument", SchemaTag, "This OpenAPI document",
            "OpenAPI 3.1, generated from the resource declarations and the route table. JSON unless ?format=yaml or an Accept of "
                + "application/yaml asks for YAML. Anyone may read it.",
            [OperationParts.None]);
        operation.Parameters =
        [
            new OpenApiParameter
            {
                Name = "format",
                In = ParameterLocation.Query,
                Description = "json or yaml, whatever the Accept header says.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = ["json", "yaml"] },
            },
        ];
        operation.Responses!["200"] = new OpenApiResponse
        {
            Description = "The document.",
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                [OperationParts.Json] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.Object } },
                [ApiSchemaEndpoints.YamlMediaType] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
        };
        operation.Responses["404"] = parts.Detail("An unknown ?format=.", ("unknownFormat", ApiResponse.NotFoundDetail));
        operation.Responses["406"] = parts.NotAcceptable();
        if (parts.Settings.ApiThrottled)
            operation.Responses["429"] = parts.ApiThrottled();
        return operation;
    }

    private OpenApiOperation ReferencePage()
    {
        var operation = Operation("apiReferencePage", SchemaTag, "API reference page",
            "An interactive reference over this document (Scalar), served by this server alone: it loads nothing from elsewhere.",
            [OperationParts.None]);
        operation.Responses!["200"] = OperationParts.HtmlPage("The page.");
        return operation;
    }

    /// <summary>The files the page loads, served from the Scalar package (the names its page uses).</summary>
    private OpenApiOperation ReferencePageFile()
    {
        var operation = Operation("apiReferencePageFile", SchemaTag, "API reference page's files",
            "The page's script and icon, from the Scalar package.", [OperationParts.None]);
        operation.Parameters =
        [
            new OpenApiParameter
            {
                Name = "file",
                In = ParameterLocation.Path,
                Required = true,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. ApiReferencePage.Files] },
            },
        ];
        operation.Responses!["200"] = new OpenApiResponse
        {
            Description = "The file.",
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["text/javascript"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                ["image/svg+xml"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
        };
        return operation;
    }

    private OpenApiResponse CsrfRefusal() => parts.Detail(
        "The CSRF token pair is missing or wrong, or the Origin or Referer is not trusted.",
        ("noCookie", Csrf.CsrfProtection.RefusalPrefix + Csrf.CsrfFailureReasons.NoCsrfCookie),
        ("noToken", Csrf.CsrfProtection.RefusalPrefix + Csrf.CsrfFailureReasons.TokenMissing));

    private static OpenApiParameter Next() => new()
    {
        Name = "next",
        In = ParameterLocation.Query,
        Description = "Where to go afterwards: a path of this site (anything else goes to /api/).",
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    private static OpenApiResponse Redirect(string description) => new()
    {
        Description = description,
        Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["Location"] = OperationParts.Header("Where to.", OperationParts.Url(absolute: false)),
        },
    };

    private static OpenApiHeader SetCookie(string description) =>
        OperationParts.Header(description, new OpenApiSchema { Type = JsonSchemaType.String });
}
