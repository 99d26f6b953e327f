using System.Reflection;
using Microsoft.OpenApi;

using Postern.Server.Api;

namespace Postern.Server.OpenApi;

/// <summary>
/// Builds the OpenAPI 3.1 document of the whole site with Microsoft.OpenApi's object model (its writers then give JSON and
/// YAML that follow the specification): the API from the route table and the resource declarations, the other paths from
/// their descriptions. Nothing is listed by hand that a declaration already says.
/// </summary>
internal static class OpenApiDocumentBuilder
{
    public static OpenApiDocument Build(RouteTable routes, DocumentedSettings settings)
    {
        var document = new OpenApiDocument
        {
            Info = new OpenApiInfo
            {
                Title = "Postern API",
                Version = Version(),
                Description = Introduction(settings),
            },
            // Relative: the same document serves every host and scheme the server is reached by (and can be cached once).
            Servers = [new OpenApiServer { Url = "/", Description = "This server." }],
            Paths = [],
            Components = new OpenApiComponents(),
        };
        var schemas = new ResourceSchemas(document);
        var parts = new OperationParts(document, schemas, settings);
        var api = new ApiRouteDescriptions(document, parts, routes);
        var site = new SiteEndpointDescriptions(document, parts);
        var accounts = new AccountEndpointDescriptions(document, parts);
        document.Tags = new HashSet<OpenApiTag>([.. api.Tags(), .. SiteEndpointDescriptions.Tags(), AccountEndpointDescriptions.Tag()]);
        document.Components.SecuritySchemes = parts.SecuritySchemes();
        document.Components.Parameters = api.Parameters();
        api.AddPaths(document.Paths);
        site.AddPaths(document.Paths);
        accounts.AddPaths(document.Paths);
        return document;
    }

    private static string Introduction(DocumentedSettings settings) =>
        "A backend that speaks the session + CSRF protocol of Django and Django REST Framework.\n\n"
        + $"**Signing in.** GET /auth/csrf sets the {settings.CsrfCookie} cookie; POST /auth/login with the X-CSRFToken header "
        + $"sets the {settings.SessionCookie} cookie (in a browser, [/api-auth/login/](/api-auth/login/?next=/api/docs/) does "
        + $"both). Every POST, PUT, PATCH and DELETE then carries the token pair: the {settings.CsrfCookie} cookie and the same "
        + "token in X-CSRFToken.\n\n"
        + "**Answers.** Errors are JSON: {\"detail\": \"...\"} with DRF's words, or for invalid input each refused field with "
        + "its messages ({\"username\": [\"This field is required.\"]}). A method a path does not list is answered 405 "
        + "{\"detail\": \"Method \\\"PUT\\\" not allowed.\"} with an Allow header.";

    private static string Version()
    {
        var version = typeof(OpenApiDocumentBuilder).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";
        // The build metadata after "+" (a commit id) says nothing to an API's reader.
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
