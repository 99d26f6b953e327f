using Microsoft.OpenApi;
using Postern.Server.Api;
using Postern.Server.Storage;

namespace Postern.Server.OpenApi;

/// <summary>
/// The operations of every route of the route table, from the declarations alone: each route's methods, its view name and
/// description, its fields (request and response schemas), its lookup (the path parameter), who its permissions let in
/// (the security requirements and the 403), and the answers DRF's pipeline gives in its order (406, 403, 429 when the API's
/// rates are set, 404, 400/415).
/// </summary>
internal sealed class ApiRouteDescriptions(OpenApiDocument document, OperationParts parts, RouteTable routes)
{
    private const string FormatParameter = "format";
    private const string PageParameter = "page";
    private const string PageSizeParameter = "page_size";

    private ResourceSchemas Schemas => parts.Schemas;

    /// <summary>The tag of the API root; each resource's tag is its path.</summary>
    public const string RootTag = "api";

    public IEnumerable<OpenApiTag> Tags()
    {
        yield return new OpenApiTag
        {
            Name = RootTag,
            Description = "The API root: a link to every collection. Every path under /api/ also answers HEAD (GET without the "
                + "body) and OPTIONS (DRF's metadata: the fields a user may send), and takes a format suffix (/api/users.json).",
        };
        foreach (var resource in routes.Resources)
        {
            var description = resource.Description.Length > 0
                ? resource.Description
                : $"{resource.Name} objects: the collection at {routes.ListOf(resource).Template}, each object at "
                    + $"{routes.InstanceOf(resource).Template}.";
            yield return new OpenApiTag { Name = resource.Path, Description = description };
        }
    }

    /// <summary>The shared query parameters, added to the components once.</summary>
    public IDictionary<string, IOpenApiParameter> Parameters() => new Dictionary<string, IOpenApiParameter>
    {
        [FormatParameter] = new OpenApiParameter
        {
            Name = FormatParameter,
            In = ParameterLocation.Query,
            Description = "Chooses the representation whatever the Accept header says: json, or api for the browsable HTML page. "
                + "It is carried into every link of the answer.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = ["json", "api"] },
        },
        [PageParameter] = new OpenApiParameter
        {
            Name = PageParameter,
            In = ParameterLocation.Query,
            Description = "A page number within the paginated result set (from 1), or last.",
            Schema = new OpenApiSchema
            {
                OneOf =
                [
                    new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
                    new OpenApiSchema { Type = JsonSchemaType.String, Const = "last" },
                ],
            },
        },
        [PageSizeParameter] = new OpenApiParameter
        {
            Name = PageSizeParameter,
            In = ParameterLocation.Query,
            Description = $"Number of results to return per page: {parts.Settings.PageSize} unless asked, at most "
                + $"{parts.Settings.MaxPageSize} (a larger number is taken as {parts.Settings.MaxPageSize}).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
        },
    };

    public void AddPaths(OpenApiPaths paths)
    {
        // The root first, as a reader starts there; then the resources' routes in the table's order.
        foreach (var route in routes.Routes.OrderBy(r => r.Kind != RouteKind.Root))
        {
            var item = new OpenApiPathItem();
            if (route.OnInstance)
                item.Parameters = [IdParameter(route.Resource!)];
            foreach (var method in route.Methods)
                item.AddOperation(HttpMethod.Parse(method), Operation(route, method));
            paths[route.Template] = item;
        }
    }

    private static OpenApiParameter IdParameter(ApiResource resource) => new()
    {
        Name = "id",
        In = ParameterLocation.Path,
        Required = true,
        Description = resource.Lookup == Lookup.NumericId
            ? $"A unique integer value identifying this {resource.Name.ToLowerInvariant()}."
            : $"The identifier of this {resource.Name.ToLowerInvariant()}, as its url shows it.",
        Schema = resource.Lookup == Lookup.NumericId
            ? new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0" }
            : new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[^/.]+$" },
    };

    private OpenApiOperation Operation(ApiRoute route, string method)
    {
        var resource = route.Resource;
        var unsafeMethod = !Protocol.SafeMethods.Contains(method);
        var audience = AudienceOf(route, method, routes);
        var operation = new OpenApiOperation
        {
            OperationId = OperationId(route, method),
            Summary = Summary(route, method),
            Description = Describe(route, method, audience),
            Tags = new HashSet<OpenApiTagReference> { new(resource?.Path ?? RootTag, document) },
            Parameters = [new OpenApiParameterReference(FormatParameter, document)],
            Responses = [],
        };
        var signIn = unsafeMethod ? OperationParts.SessionAndTokenPair : OperationParts.Session;
        operation.Security = audience == Audience.Anyone
            ? parts.Security(signIn, OperationParts.ApiToken, OperationParts.None)
            : parts.Security(signIn, OperationParts.ApiToken);

        var input = InputOf(route, method);
        if (route.Kind == RouteKind.List && method == "GET")
        {
            operation.Parameters.Add(new OpenApiParameterReference(PageParameter, document));
            operation.Parameters.Add(new OpenApiParameterReference(PageSizeParameter, document));
            foreach (var filter in resource!.Filters)
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = filter.Name,
                    In = ParameterLocation.Query,
                    Description = filter.Description,
                    Schema = filter.Schema(),
                });
            }
        }
        if (input is { } body)
            operation.RequestBody = body;
        AddSuccess(operation.Responses, route, method);
        if (input is not null)
        {
            var name = route.Action is { } action ? OperationParts.Pascal(action.Name) : resource!.Name;
            operation.Responses["400"] = new OpenApiResponse
            {
                Description = "Invalid input: each refused field with DRF's messages (non_field_errors for the body as a whole), "
                    + "or {\"detail\": ...} for a body that is not valid JSON.",
                Content = new Dictionary<string, IOpenApiMediaType>
                {
                    [OperationParts.Json] = new OpenApiMediaType
                    {
                        Schema = new OpenApiSchema { OneOf = [Schemas.ValidationError(name, route.InputFields), Schemas.Error()] },
                    },
                },
            };
        }
        operation.Responses["401"] = parts.BadToken();
        operation.Responses["403"] = Forbidden(audience, unsafeMethod);
        operation.Responses["404"] = NotFound(route, method);
        operation.Responses["406"] = parts.NotAcceptable();
        if (input is not null)
        {
            operation.Responses["413"] = parts.TooLarge();
            operation.Responses["415"] = parts.UnsupportedMediaType();
        }
        if (parts.Settings.ApiThrottled)
            operation.Responses["429"] = parts.ApiThrottled();
        operation.Responses["503"] = parts.Unavailable();
        return operation;
    }

    /// <summary>DRF's view names for reads (as the browsable page titles them), a verb and the name for writes.</summary>
    private static string Summary(ApiRoute route, string method) => (route.Kind, method) switch
    {
        (RouteKind.List, "POST") => $"Create {route.Resource!.Name}",
        (RouteKind.Instance, "PUT") => $"Update {route.Resource!.Name}",
        (RouteKind.Instance, "PATCH") => $"Partially Update {route.Resource!.Name}",
        (RouteKind.Instance, "DELETE") => $"Delete {route.Resource!.Name}",
        _ when route.Action is not null && route.Methods.Count > 1 => $"{route.Name} ({method})",
        _ => route.Name,
    };

    /// <summary>DRF's AutoSchema ids: listUsers, createUser, retrieveUser, updateUser, partialUpdateUser, destroyUser.</summary>
    private static string OperationId(ApiRoute route, string method) => (route.Kind, method) switch
    {
        (RouteKind.Root, _) => "apiRoot",
        (RouteKind.List, "GET") => "list" + OperationParts.Pascal(route.Resource!.Path),
        (RouteKind.List, "POST") => "create" + route.Resource!.Name,
        (RouteKind.Instance, "GET") => "retrieve" + route.Resource!.Name,
        (RouteKind.Instance, "PUT") => "update" + route.Resource!.Name,
        (RouteKind.Instance, "PATCH") => "partialUpdate" + route.Resource!.Name,
        (RouteKind.Instance, "DELETE") => "destroy" + route.Resource!.Name,
        _ => OperationParts.Camel(route.Action!.Name) + (route.Methods.Count > 1 ? OperationParts.Pascal(method.ToLowerInvariant()) : ""),
    };

    private string Describe(ApiRoute route, string method, Audience audience)
    {
        var lines = new List<string>();
        if (route.Description.Length > 0)
            lines.Add(route.Description);
        lines.Add($"View: {route.Name}. Who may: {Describe(audience)}.");
        if (route.Kind == RouteKind.List && method == "GET")
            lines.Add($"{parts.Settings.PageSize} per page in id order unless page_size says otherwise.");
        if (method == "PUT")
            lines.Add("Every writable field is sent; those left out take their defaults or are refused as required.");
        if (method == "PATCH")
            lines.Add("Only the fields sent are changed.");
        return string.Join("\n\n", lines);
    }

    /// <summary>The body a write reads, or null for a method that reads none.</summary>
    private OpenApiRequestBody? InputOf(ApiRoute route, string method)
    {
        switch (route.Kind, method)
        {
            case (RouteKind.List, "POST"):
            case (RouteKind.Instance, "PUT"):
                return Schemas.Request(route.Resource!.Name, route.InputFields, partial: false) is { } full
                    ? OperationParts.Body(full, required: true, $"The new {route.Resource.Name.ToLowerInvariant()}'s fields.")
                    : null;
            case (RouteKind.Instance, "PATCH"):
                return Schemas.Request(route.Resource!.Name, route.InputFields, partial: true) is { } patch
                    ? OperationParts.Body(patch, required: false, "The fields to change.")
                    : null;
            case (RouteKind.ListAction or RouteKind.InstanceAction, _) when route.Action!.Fields.Count > 0:
                var input = Schemas.Request(OperationParts.Pascal(route.Action.Name), route.Action.Fields, partial: false);
                return input is null ? null : OperationParts.Body(input, required: true, $"What {route.Action.Name} needs.");
            default:
                return null;
        }
    }

    private void AddSuccess(OpenApiResponses responses, ApiRoute route, string method)
    {
        var resource = route.Resource;
        switch (route.Kind, method)
        {
            case (RouteKind.Root, _):
                var links = routes.Resources.ToDictionary(r => r.Path, r => (IOpenApiSchema)new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Format = "uri",
                    Description = $"The absolute URL of {routes.ListOf(r).Template}.",
                });
                responses["200"] = WithBrowsablePage(OperationParts.JsonAnswer("A link to every collection.", new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = links.Keys.ToHashSet(),
                    Properties = links,
                }));
                break;
            case (RouteKind.List, "GET"):
                responses["200"] = WithBrowsablePage(OperationParts.JsonAnswer("A page of the list.", Schemas.Page(resource!)));
                break;
            case (RouteKind.List, "POST"):
                var created = OperationParts.JsonAnswer($"Created: the new {resource!.Name.ToLowerInvariant()}.",
                    Schemas.Created(resource));
                var location = OperationParts.Header("The new object's absolute URL (its url field).", OperationParts.Url(absolute: true));
                created.Headers = new Dictionary<string, IOpenApiHeader> { ["Location"] = location };
                responses["201"] = created;
                break;
            case (RouteKind.Instance, "DELETE"):
                responses["204"] = new OpenApiResponse { Description = $"Deleted: the {resource!.Name.ToLowerInvariant()} is gone." };
                break;
            case (RouteKind.Instance, _):
                var shown = OperationParts.JsonAnswer($"The {resource!.Name.ToLowerInvariant()}.", Schemas.Object(resource));
                responses["200"] = method == "GET" ? WithBrowsablePage(shown) : shown;
                break;
            default:
                var action = route.Action!;
                var result = action.ResultFields.Count > 0
                    ? Schemas.Register(OperationParts.Pascal(action.Name) + "Result",
                        () => Schemas.ObjectSchema(action.ResultFields, $"What {action.Name} did."))
                    : (IOpenApiSchema)new OpenApiSchema { Type = JsonSchemaType.Object };
                responses["200"] = OperationParts.JsonAnswer("Done.", result);
                break;
        }
    }

    /// <summary>A read also renders as DRF's browsable page, for a browser's Accept or ?format=api.</summary>
    private static OpenApiResponse WithBrowsablePage(OpenApiResponse response)
    {
        response.Content![OperationParts.Html] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
        return response;
    }

    private OpenApiResponse Forbidden(Audience audience, bool unsafeMethod)
    {
        var cases = new List<(string, string)> { ("notSignedIn", ApiPipeline.NotAuthenticated) };
        if (audience == Audience.Staff)
            cases.Add(("notAllowed", PermissionRule.Denied));
        if (unsafeMethod)
            cases.Add(("csrf", Csrf.CsrfProtection.RefusalPrefix + Csrf.CsrfFailureReasons.NoCsrfCookie));
        var csrf = unsafeMethod ? ", or the CSRF token pair is missing or wrong." : ".";
        var description = audience switch
        {
            Audience.Anyone when !unsafeMethod => "Refused by an object permission.",
            Audience.SignedIn or Audience.Anyone => "Not signed in" + csrf,
            _ => "Not signed in, not a staff user" + csrf,
        };
        return parts.Detail(description, [.. cases]);
    }

    private OpenApiResponse NotFound(ApiRoute route, string method)
    {
        var cases = new List<(string, string)> { ("unknownFormat", ApiResponse.NotFoundDetail) };
        var description = "An unknown ?format= or format suffix";
        if (route.Kind == RouteKind.List && method == "GET")
        {
            cases.Add(("invalidPage", Pagination.InvalidPage));
            description += ", or a page that does not exist";
        }
        if (route.OnInstance)
        {
            cases.Add(("noSuchObject", $"No {route.Resource!.Name} matches the given query."));
            description += $", or no {route.Resource.Name.ToLowerInvariant()} with this id (among those you may see)";
        }
        return parts.Detail(description + ".", [.. cases]);
    }

    private enum Audience
    {
        Anyone,
        SignedIn,
        Staff,
        Nobody,
    }

    private static string Describe(Audience audience) => audience switch
    {
        Audience.Anyone => "anyone",
        Audience.SignedIn => "any signed-in user",
        Audience.Staff => "staff users",
        _ => "nobody",
    };

    /// <summary>
    /// Who a route's permissions let in for a method, found by asking them (DRF's has_permission) about an anonymous request, a
    /// signed-in user's and a staff user's: what the document says is what the pipeline does.
    /// </summary>
    private static Audience AudienceOf(ApiRoute route, string method, RouteTable routes)
    {
        var context = new DefaultHttpContext();
        bool Allows(Sessions.Authenticated? who) =>
            route.Permissions.All(p => p.HasPermission(new ApiRequest(context, who, method, routes)));
        if (Allows(null))
            return Audience.Anyone;
        if (Allows(Someone(staff: false)))
            return Audience.SignedIn;
        return Allows(Someone(staff: true)) ? Audience.Staff : Audience.Nobody;
    }

    private static Sessions.Authenticated Someone(bool staff)
    {
        var at = DateTimeOffset.UnixEpoch;
        return new Sessions.Authenticated(
            new User(0, "", "", "", IsActive: true, IsStaff: staff, IsSuperuser: false, at, null),
            new SessionRecord("", 0, "", at, at, at, null), null);
    }
}
