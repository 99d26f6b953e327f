using Microsoft.Extensions.Options;
using Postern.Server.Sessions;
using Postern.Server.Storage;

namespace Postern.Server.Api;

/// <summary>
/// One request to the API as views, permissions, fields and store adapters see it (DRF's Request): who asks, with which
/// method, the links of this request, the services. A store adapter gets it to know whose data is asked for.
/// </summary>
public sealed class ApiRequest
{
    private readonly Authenticated? _current;

    internal ApiRequest(HttpContext context, Authenticated? current, string method, RouteTable routes, ApiLinks? links = null)
    {
        Context = context;
        _current = current;
        Method = method;
        Routes = routes;
        Links = links ?? new ApiLinks(context.Request, routes);
    }

    public HttpContext Context { get; }
    public HttpRequest HttpRequest => Context.Request;

    /// <summary>The method the view answers (HEAD is answered as GET); permissions are asked about it.</summary>
    public string Method { get; }

    public RouteTable Routes { get; }
    public ApiLinks Links { get; }
    public bool IsAuthenticated => _current is not null;

    /// <summary>The signed-in user; only for resources whose permissions require one.</summary>
    public User User =>
        _current?.User ?? throw new InvalidOperationException("An anonymous request has no user: check IsAuthenticated first.");

    /// <summary>The session the request is signed in with; null for an anonymous request and one authenticated by an API token.</summary>
    public SessionRecord? Session => _current?.Session;

    /// <summary>Whether the request is authenticated by an API token rather than a session.</summary>
    public bool ByToken => _current?.ByToken ?? false;

    public CancellationToken Aborted => Context.RequestAborted;
    public T Service<T>() where T : notnull => Context.RequestServices.GetRequiredService<T>();
    public TimeProvider Time => Service<TimeProvider>();
    public ApiOptions Options => Service<IOptions<ApiOptions>>().Value;

    /// <summary>The body, parsed once per request as DRF's parsers would.</summary>
    public Task<ApiInput> ReadInputAsync() => _input ??= ApiInput.ReadAsync(HttpRequest, Aborted);

    private Task<ApiInput>? _input;

    /// <summary>The same request asked about another method (DRF's clone_request, for OPTIONS and the browsable forms).</summary>
    public ApiRequest WithMethod(string method) => method == Method ? this : new ApiRequest(Context, _current, method, Routes, Links);
}
