using System.Text.Json.Nodes;
using Postern.Server.Csrf;
using Postern.Server.Http;
using Postern.Server.Sessions;
using Postern.Server.Throttling;

namespace Postern.Server.Api;

/// <summary>
/// Renders an answer of the API as HTML (the browsable page). The pipeline is DRF's; which HTML it writes is the
/// Browsable part's business, plugged in here as DRF's BrowsableAPIRenderer is plugged into renderer_classes.
/// </summary>
public interface IApiHtmlRenderer
{
    Task RenderAsync(HttpContext context, ApiRequest api, ApiRoute route, ApiResponse response);
}

/// <summary>
/// The DRF view pipeline, in DRF's order, for every route: content negotiation (404 for an unknown format, 406),
/// authentication (an API token, or the session with its CSRF check for signed-in users), permissions (403), the throttles
/// (429, when Postern:Throttling:ApiAnonRate or ApiUserRate is set), the method (405), then the
/// generic view or action, whose object lookup asks the object permissions; the answer is rendered as JSON or as
/// the browsable page. Nothing here knows any particular resource.
/// </summary>
public static class ApiPipeline
{
    public const string NotAuthenticated = "Authentication credentials were not provided.";

    public static readonly JsonArray Renders = ["application/json", "text/html"];
    public static readonly JsonArray Parses = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"];

    /// <summary>Maps every route of the table, each also with DRF's format suffix; all are CSRF-checked the DRF way.</summary>
    public static IEndpointRouteBuilder MapApi(this IEndpointRouteBuilder app, RouteTable routes)
    {
        foreach (var route in routes.Routes)
        {
            RequestDelegate handler = context => HandleAsync(context, routes, route);
            app.Map(route.Template, handler).RequireCsrf(CsrfEnforcement.AuthenticatedSessionsOnly);
            app.Map(route.SuffixTemplate.Replace("{format}", "{format:regex(^[a-z0-9]+$)}", StringComparison.Ordinal), handler)
                .RequireCsrf(CsrfEnforcement.AuthenticatedSessionsOnly);
        }
        return app;
    }

    /// <summary>DRF's permission_denied: an anonymous request is told to sign in, a signed-in one why not.</summary>
    public static ApiResponse Denied(ApiRequest request, PermissionRule permission) =>
        ApiResponse.Forbidden(request.IsAuthenticated ? permission.Message : NotAuthenticated);

    private static async Task HandleAsync(HttpContext context, RouteTable routes, ApiRoute route)
    {
        var outcome = ContentNegotiation.Negotiate(context.Request, out var representation, out var indent);
        // Negotiation comes first, as in DRF's initial(): a refused format never looks at the session (no Vary: Cookie).
        ApiRequest? request = null;
        ApiResponse response;
        if (outcome == ContentNegotiation.Outcome.Chosen)
        {
            var method = context.Request.Method == "HEAD" ? "GET" : context.Request.Method;
            try
            {
                request = new ApiRequest(context, await context.GetRequestUser().GetAsync(), method, routes);
                response = await RespondAsync(request, route);
            }
            catch (AuthenticationFailedException e)
            {
                // DRF's AuthenticationFailed, raised in initial() after negotiation: rendered like any answer, as anonymous.
                request = new ApiRequest(context, null, method, routes);
                context.Response.Headers.WWWAuthenticate = e.Challenge;
                response = ApiResponse.Detail(StatusCodes.Status401Unauthorized, e.Detail);
            }
        }
        else
        {
            response = outcome == ContentNegotiation.Outcome.UnknownFormat
                ? ApiResponse.NotFound()
                : ApiResponse.Detail(StatusCodes.Status406NotAcceptable, "Could not satisfy the request Accept header.");
        }
        var http = context.Response;
        http.StatusCode = response.Status;
        http.Headers.Allow = route.Allow;
        VaryHeader.Add(http, "Accept");
        if (response.Location is not null)
            http.Headers.Location = response.Location;
        if (response.RetryAfterSeconds is { } retryAfter)
            http.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (request is not null && representation == Representation.BrowsableHtml)
        {
            await context.RequestServices.GetRequiredService<IApiHtmlRenderer>().RenderAsync(context, request, route, response);
            return;
        }
        if (response.Body is null)
        {
            http.ContentLength = 0;
            return;
        }
        await JsonResponses.SendAsync(context, response.Body, static (writer, body) => body.Write(writer), indent);
    }

    private static async Task<ApiResponse> RespondAsync(ApiRequest request, ApiRoute route)
    {
        if (await request.Service<CsrfProtection>().RefusalAsync(request.Context) is { } refusal)
            return ApiResponse.Forbidden(refusal);
        foreach (var permission in route.Permissions)
        {
            if (!permission.HasPermission(request))
                return Denied(request, permission);
        }
        // DRF's check_throttles, after the permissions (a refused request is not counted) and before the method and OPTIONS.
        var throttle = request.Service<ApiThrottle>();
        if (throttle.InForce && await throttle.CheckAsync(request.Context, request.IsAuthenticated ? request.User : null) is > 0 and var wait)
            return ApiResponse.Throttled(wait);
        if (request.Method == "OPTIONS")
            return ApiResponse.Ok(await OptionsMetadata.DescribeAsync(request, route));
        if (!route.Methods.Contains(request.Method))
            return ApiResponse.Detail(StatusCodes.Status405MethodNotAllowed, $"Method \"{request.HttpRequest.Method}\" not allowed.");
        try
        {
            return await DispatchAsync(request, route);
        }
        catch (ApiInput.UnsupportedMediaTypeException e)
        {
            return ApiResponse.Detail(StatusCodes.Status415UnsupportedMediaType, e.Message);
        }
        catch (ApiInput.ParseErrorException e)
        {
            return ApiResponse.Detail(StatusCodes.Status400BadRequest, e.Message);
        }
        catch (ApiValidationException e)
        {
            return ApiResponse.Invalid(e.Errors);
        }
        catch (ApiRefusalException e)
        {
            return e.Response;
        }
    }

    private static Task<ApiResponse> DispatchAsync(ApiRequest request, ApiRoute route)
    {
        var id = request.Context.GetRouteValue("id")?.ToString();
        var resource = route.Resource;
        return (route.Kind, request.Method) switch
        {
            (RouteKind.Root, _) => Task.FromResult(ApiResponse.Ok(RootBody(request))),
            (RouteKind.List, "GET") => resource!.ListAsync(request),
            (RouteKind.List, "POST") => resource!.CreateAsync(request),
            (RouteKind.Instance, "GET") => resource!.RetrieveAsync(request, id!),
            (RouteKind.Instance, "PUT") => resource!.UpdateAsync(request, id!, partial: false),
            (RouteKind.Instance, "PATCH") => resource!.UpdateAsync(request, id!, partial: true),
            (RouteKind.Instance, "DELETE") => resource!.DestroyAsync(request, id!),
            (RouteKind.ListAction or RouteKind.InstanceAction, _) => resource!.RunActionAsync(request, route.Action!, id),
            _ => throw new InvalidOperationException($"No view for {request.Method} on {route.Template}."),
        };
    }

    /// <summary>DRF's DefaultRouter root: an absolute link to every collection, keyed by its path.</summary>
    private static JsonObject RootBody(ApiRequest request)
    {
        var root = new JsonObject();
        foreach (var resource in request.Routes.Resources)
            root[resource.Path] = request.Links.List(resource);
        return root;
    }
}
