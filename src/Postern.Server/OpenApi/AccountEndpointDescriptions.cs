using Microsoft.OpenApi;
using Postern.Server.Accounts;

namespace Postern.Server.OpenApi;

/// <summary>
/// The account flows of docs/accounts.md, described from their <see cref="AccountEndpoint"/> declarations (path, method,
/// fields, answers), and the two HTML pages their e-mails link to when the frontend has none of its own.
/// </summary>
internal sealed class AccountEndpointDescriptions(OpenApiDocument document, OperationParts parts)
{
    public const string AccountsTag = "accounts";

    public static OpenApiTag Tag() => new()
    {
        Name = AccountsTag,
        Description = "Password change and reset, sign-up and e-mail verification (docs/accounts.md): Django's forms and "
            + "dj-rest-auth's wire shapes; two-factor authentication (TOTP, recovery codes) and reauthentication. Each path "
            + "also answers with a trailing slash.",
    };

    public void AddPaths(OpenApiPaths paths)
    {
        foreach (var endpoint in AccountEndpoints.All)
            paths[endpoint.Path] = Item(endpoint);
        // PATCH /auth/user sits beside GET on the path the protocol already describes.
        var profile = AuthEndpoints.ProfileUpdate;
        ((OpenApiPathItem)paths[profile.Path]).AddOperation(HttpMethod.Parse(profile.Method), Operation(profile));
        paths[AccountPagePaths.PasswordReset + "{uid}/{token}"] = Page(
            "passwordResetPage", "The password reset link's page",
            "Django's PasswordResetConfirmView: a form for the new password when the link is good, a message when it is not. "
                + "POST sets the password (new_password1, new_password2, csrfmiddlewaretoken).",
            "uid", "token");
        paths[AccountPagePaths.EmailVerify + "{key}"] = Page(
            "emailVerifyPage", "The verification link's page",
            "A button that confirms the address (a GET changes nothing, since mail scanners open links); POST with "
                + "csrfmiddlewaretoken confirms it.",
            "key");
    }

    private OpenApiPathItem Item(AccountEndpoint endpoint)
    {
        var item = new OpenApiPathItem();
        item.AddOperation(HttpMethod.Parse(endpoint.Method), Operation(endpoint));
        return item;
    }

    private OpenApiOperation Operation(AccountEndpoint endpoint)
    {
        var operation = new OpenApiOperation
        {
            OperationId = endpoint.OperationId,
            Summary = endpoint.Summary,
            Description = endpoint.TokenRefusal is { } refusal
                ? $"{endpoint.Description} Refused to an API token (403): \"{refusal}\""
                : endpoint.Description,
            Tags = new HashSet<OpenApiTagReference> { new(AccountsTag, document) },
            Security = !endpoint.RequiresSignIn ? parts.Security(OperationParts.TokenPair)
                : endpoint.TokenRefusal is null ? parts.Security(OperationParts.SessionAndTokenPair, OperationParts.ApiToken)
                : parts.Security(OperationParts.SessionAndTokenPair),
            Responses = [],
        };
        if (endpoint.Fields.Count > 0)
        {
            var form = parts.Schemas.Register(OperationParts.Pascal(endpoint.OperationId) + "Form", () => FormSchema(endpoint));
            operation.RequestBody = OperationParts.Body(form, required: !endpoint.Partial,
                endpoint.Partial ? "The fields to change." : "The form's fields.");
        }
        foreach (var answer in endpoint.Answers)
        {
            operation.Responses[answer.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = answer switch
            {
                { Status: 429 } => parts.Throttled(),
                { Body: { } body } => OperationParts.JsonAnswer(answer.Description, parts.Schemas.Register(
                    OperationParts.Pascal(endpoint.OperationId) + answer.Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    () => BodySchema(answer, body))),
                { Status: < 300, Details.Length: 0 } => OperationParts.JsonAnswer(answer.Description, CurrentUserSchema()),
                { Status: 400, Details.Length: 0 } => OperationParts.JsonAnswer(answer.Description, FieldErrorsSchema(endpoint)),
                _ => parts.Detail(answer.Description,
                    [.. answer.Details.Select((detail, i) => ($"{endpoint.OperationId}{i + 1}", detail))]),
            };
        }
        if (endpoint.Fields.Count > 0)
        {
            operation.Responses.TryAdd("400", parts.Detail("A malformed body.", ("malformed", AccountCall.MalformedBody)));
            operation.Responses["413"] = parts.TooLarge();
        }
        if (endpoint.RequiresSignIn || endpoint.RequiresRecentAuthentication)
            operation.Responses.TryAdd("401", parts.BadToken());
        if (endpoint.RateLimits.Count > 0)
            operation.Responses["429"] = parts.Throttled();
        operation.Responses["503"] = parts.Unavailable();
        return operation;
    }

    private static OpenApiSchema FormSchema(AccountEndpoint endpoint)
    {
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = endpoint.Summary + ".",
            Properties = endpoint.Fields.ToDictionary(f => f.Name, f => (IOpenApiSchema)FieldSchema(f)),
        };
        if (!endpoint.Partial && endpoint.Fields.Any(f => f.Required))
            schema.Required = endpoint.Fields.Where(f => f.Required).Select(f => f.Name).ToHashSet();
        return schema;
    }

    private static OpenApiSchema BodySchema(AccountAnswer answer, IReadOnlyList<BodyProperty> body) => new()
    {
        Type = JsonSchemaType.Object,
        Description = answer.Description,
        Properties = body.ToDictionary(p => p.Name, p => (IOpenApiSchema)PropertySchema(p)),
        Required = body.Select(p => p.Name).ToHashSet(),
    };

    private static OpenApiSchema PropertySchema(BodyProperty property)
    {
        var schema = property.Kind switch
        {
            BodyPropertyKind.Boolean => new OpenApiSchema { Type = JsonSchemaType.Boolean },
            BodyPropertyKind.WholeNumber => new OpenApiSchema { Type = JsonSchemaType.Integer },
            BodyPropertyKind.DateTime => new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
            BodyPropertyKind.TextList => new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            _ => new OpenApiSchema { Type = JsonSchemaType.String },
        };
        schema.Description = property.Description;
        if (property.Nullable)
            schema.Type |= JsonSchemaType.Null;
        return schema;
    }

    private static OpenApiSchema FieldSchema(FormField field)
    {
        var schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = field.Description, MaxLength = field.MaxLength };
        switch (field.Kind)
        {
            case FormFieldKind.Email:
                schema.Format = "email";
                break;
            case FormFieldKind.Password:
                schema.Format = "password";
                schema.WriteOnly = true;
                break;
        }
        return schema;
    }

    /// <summary>A 400 of field errors: each refused field with its messages, as DRF words a ValidationError.</summary>
    private OpenApiSchemaReference FieldErrorsSchema(AccountEndpoint endpoint) =>
        parts.Schemas.Register(OperationParts.Pascal(endpoint.OperationId) + "Errors", () => new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "Each refused field with its messages; non_field_errors for what no one field says.",
            Properties = endpoint.Fields.Select(f => f.Name).Append("non_field_errors").ToDictionary(
                name => name, _ => (IOpenApiSchema)new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Items = new OpenApiSchema { Type = JsonSchemaType.String },
                    MinItems = 1,
                }),
        });

    /// <summary>The signed-in user, as GET /auth/user shows it (the schema that operation registers).</summary>
    private OpenApiSchemaReference CurrentUserSchema() => new(SiteEndpointDescriptions.CurrentUserSchemaId, document);

    private OpenApiPathItem Page(string id, string summary, string description, params string[] parameters)
    {
        var page = new OpenApiPathItem();
        page.AddOperation(HttpMethod.Get, new OpenApiOperation
        {
            OperationId = id,
            Summary = summary,
            Description = description,
            Tags = new HashSet<OpenApiTagReference> { new(AccountsTag, document) },
            Security = parts.Security(OperationParts.None),
            Parameters = [.. parameters.Select(PathParameter)],
            Responses = new OpenApiResponses { ["200"] = OperationParts.HtmlPage("The page (Referrer-Policy: no-referrer).") },
        });
        page.AddOperation(HttpMethod.Post, new OpenApiOperation
        {
            OperationId = "submit" + OperationParts.Pascal(id),
            Summary = summary + ", submitted",
            Description = "The page again, saying what happened.",
            Tags = new HashSet<OpenApiTagReference> { new(AccountsTag, document) },
            Security = parts.Security([OperationParts.CsrfCookieScheme], OperationParts.TokenPair),
            Parameters = [.. parameters.Select(PathParameter)],
            Responses = new OpenApiResponses
            {
                ["200"] = OperationParts.HtmlPage("What happened."),
                ["403"] = parts.Detail("A CSRF failure."),
                ["413"] = parts.TooLarge(),
                ["503"] = parts.Unavailable(),
            },
        });
        return page;
    }

    private static IOpenApiParameter PathParameter(string name) => new OpenApiParameter
    {
        Name = name,
        In = ParameterLocation.Path,
        Required = true,
        Description = "From the e-mailed link.",
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };
}
