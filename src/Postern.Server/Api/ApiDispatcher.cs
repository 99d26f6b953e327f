using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Accounts;
using Postern.Server.Csrf;
using Postern.Server.Hosting;
using Postern.Server.Http;
using Postern.Server.Sessions;
using Postern.Server.Storage;

namespace Postern.Server.Api;

/// <summary>What a resource answers: a status, a JSON body (null for none) and, for creations, a Location.</summary>
public sealed record ApiResponse(int Status, JsonNode? Body, string? Location = null)
{
    public static ApiResponse Ok(JsonNode body) => new(StatusCodes.Status200OK, body);
    public static ApiResponse Detail(int status, string detail) => new(status, new JsonObject { ["detail"] = detail });
    public static ApiResponse NoContent() => new(StatusCodes.Status204NoContent, null);
    public static ApiResponse Invalid(FieldErrors errors) => new(StatusCodes.Status400BadRequest, errors.ToJson());
    public static ApiResponse NotFound(string detail = "Not found.") => Detail(StatusCodes.Status404NotFound, detail);
}

/// <summary>Who may use a resource (DRF permission classes).</summary>
public enum AccessRule
{
    /// <summary>Any signed-in user, for every method.</summary>
    Authenticated,

    /// <summary>Any signed-in user may read; only staff may change (the peer's ReadOrStaffWrite).</summary>
    ReadOrStaffWrite,
}

/// <summary>One request to a resource, after authentication and permission checks passed.</summary>
public sealed class ApiCall(HttpContext context, SessionWithUser session)
{
    public HttpContext Context => context;
    public HttpRequest Request => context.Request;
    public User User => session.User;
    public SessionRecord Session => session.Session;
    public ApiLinks Links { get; } = new(context.Request);
    public CancellationToken Aborted => context.RequestAborted;
    public T Service<T>() where T : notnull => context.RequestServices.GetRequiredService<T>();
    public ApiOptions Options => Service<IOptions<ApiOptions>>().Value;
    public string? RouteValue(string name) => context.GetRouteValue(name)?.ToString();

    /// <summary>The numeric <c>{id}</c> of a detail URL; false for anything else (DRF answers those 404 "Not found.").</summary>
    public bool TryGetNumericId(out long id) =>
        long.TryParse(RouteValue("id"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id);
    public Task<ApiInput> ReadInputAsync() => ApiInput.ReadAsync(context.Request, context.RequestAborted);
}

/// <summary>A resource: its name (for OPTIONS and the browsable page), who may use it, and a handler per method.</summary>
public sealed class ApiResource
{
    private static readonly string[] MethodOrder = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public required AccessRule Permission { get; init; }
    public required IReadOnlyDictionary<string, Func<ApiCall, Task<ApiResponse>>> Handlers { get; init; }

    /// <summary>OPTIONS' <c>actions</c> for staff, as DRF's SimpleMetadata describes the writable fields.</summary>
    public JsonObject? WriteActions { get; init; }

    /// <summary>DRF's Allow header: the handled methods in DRF's order, then HEAD (with GET) and OPTIONS. Worked out once: every answer sends it.</summary>
    public string Allow => field ??= string.Join(", ", MethodOrder.Where(Handlers.ContainsKey)
        .Concat(Handlers.ContainsKey("GET") ? ["HEAD"] : []).Append("OPTIONS"));
}

/// <summary>
/// The DRF view pipeline, in DRF's order: content negotiation (406), session authentication with its
/// CSRF check for signed-in users, permissions (403), the method (405), then the resource; the answer
/// is rendered as JSON or as the browsable HTML page.
/// </summary>
public static class ApiDispatcher
{
    public const string PermissionDenied = "You do not have permission to perform this action.";

    public static RequestDelegate For(ApiResource resource) => context => HandleAsync(context, resource);

    private static async Task HandleAsync(HttpContext context, ApiResource resource)
    {
        var outcome = ContentNegotiation.Negotiate(context.Request, out var representation, out var indent);
        var response = outcome switch
        {
            ContentNegotiation.Outcome.UnknownFormat => ApiResponse.NotFound(),
            ContentNegotiation.Outcome.NotAcceptable => ApiResponse.Detail(StatusCodes.Status406NotAcceptable, "Could not satisfy the request Accept header."),
            _ => await RespondAsync(context, resource),
        };
        await RenderAsync(context, resource, response, outcome == ContentNegotiation.Outcome.Chosen ? representation : Representation.Json, indent);
    }

    private static async Task<ApiResponse> RespondAsync(HttpContext context, ApiResource resource)
    {
        var method = context.Request.Method;
        var unsafeMethod = !SafeMethods.Contains(method);
        var current = await context.GetRequestSession().GetCurrentAsync();
        // DRF's SessionAuthentication enforces CSRF only for signed-in users: anonymous requests carry no authority to forge.
        if (current is not null && unsafeMethod && await context.RequestServices.GetRequiredService<CsrfRules>().CheckAsync(context) is { } reason)
            return ApiResponse.Detail(StatusCodes.Status403Forbidden, "CSRF Failed: " + reason);
        if (current is null)
            return ApiResponse.Detail(StatusCodes.Status403Forbidden, AuthEndpoints.NotAuthenticated);
        if (resource.Permission == AccessRule.ReadOrStaffWrite && unsafeMethod && !current.User.IsStaff)
            return ApiResponse.Detail(StatusCodes.Status403Forbidden, PermissionDenied);

        var call = new ApiCall(context, current);
        if (method == "OPTIONS")
            return ApiResponse.Ok(Metadata(resource, call));
        var handlerMethod = method == "HEAD" ? "GET" : method;
        if (!resource.Handlers.TryGetValue(handlerMethod, out var handler))
            return ApiResponse.Detail(StatusCodes.Status405MethodNotAllowed, $"Method \"{method}\" not allowed.");
        try
        {
            return await handler(call);
        }
        catch (ApiInput.UnsupportedMediaTypeException e)
        {
            return ApiResponse.Detail(StatusCodes.Status415UnsupportedMediaType, e.Message);
        }
        catch (ApiInput.ParseErrorException e)
        {
            return ApiResponse.Detail(StatusCodes.Status400BadRequest, e.Message);
        }
    }

    private static JsonObject Metadata(ApiResource resource, ApiCall call)
    {
        var metadata = new JsonObject
        {
            ["name"] = resource.Name,
            ["description"] = resource.Description,
            ["renders"] = new JsonArray("application/json", "text/html"),
            ["parses"] = new JsonArray("application/json", "application/x-www-form-urlencoded", "multipart/form-data"),
        };
        var mayWrite = resource.Permission == AccessRule.Authenticated || call.User.IsStaff;
        if (resource.WriteActions is { } actions && mayWrite)
            metadata["actions"] = actions.DeepClone();
        return metadata;
    }

    private static async Task RenderAsync(HttpContext context, ApiResource resource, ApiResponse response, Representation representation, int? indent)
    {
        var http = context.Response;
        http.StatusCode = response.Status;
        http.Headers.Allow = resource.Allow;
        VaryHeader.Add(http, "Accept");
        if (response.Location is not null)
            http.Headers.Location = response.Location;
        if (representation == Representation.BrowsableHtml)
        {
            await Browsable.BrowsablePage.WriteAsync(context, resource, response);
            return;
        }
        if (response.Body is null)
        {
            http.ContentLength = 0;
            return;
        }
        await JsonResponses.SendAsync(context, response.Body, static (writer, body) => body.WriteTo(writer), indent);
    }
}
