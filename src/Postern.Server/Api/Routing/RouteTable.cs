using System.Text.RegularExpressions;

namespace Postern.Server.Api;

/// <summary>What a route of the API serves.</summary>
public enum RouteKind
{
    /// <summary><c>/api/</c>: a link to every collection (DRF's DefaultRouter root).</summary>
    Root,

    /// <summary><c>/api/users/</c></summary>
    List,

    /// <summary><c>/api/users/3/</c></summary>
    Instance,

    /// <summary><c>/api/sessions/revoke-others/</c></summary>
    ListAction,

    /// <summary><c>/api/users/3/set_password/</c></summary>
    InstanceAction,
}

/// <summary>One route of the API: what it serves, its view name, and the methods it answers.</summary>
public sealed class ApiRoute
{
    internal ApiRoute(RouteKind kind, ApiResource? resource, ApiAction? action)
    {
        Kind = kind;
        Resource = resource;
        Action = action;
        Name = kind switch
        {
            RouteKind.Root => "Api Root",
            RouteKind.List => resource!.ListName,
            RouteKind.Instance => resource!.InstanceName,
            _ => action!.Name,
        };
        Methods = kind switch
        {
            RouteKind.Root => ["GET"],
            RouteKind.List => resource!.ListMethods,
            RouteKind.Instance => resource!.InstanceMethods,
            _ => action!.Methods,
        };
        Description = kind switch
        {
            RouteKind.Root => "The default basic root view for DefaultRouter",
            RouteKind.List or RouteKind.Instance => resource!.Description,
            _ => action!.Description,
        };
        // DRF's Allow: the view's methods in its order, HEAD with GET, then OPTIONS.
        Allow = string.Join(", ", Methods.Concat(Methods.Contains("GET") ? ["HEAD"] : []).Append("OPTIONS"));
    }

    public RouteKind Kind { get; }
    public ApiResource? Resource { get; }
    public ApiAction? Action { get; }

    /// <summary>DRF's view name: "User List", "User Instance", an action's name, "Api Root".</summary>
    public string Name { get; }

    public string Description { get; }

    /// <summary>The methods it answers beside HEAD and OPTIONS, in DRF's order.</summary>
    public IReadOnlyList<string> Methods { get; }

    /// <summary>The Allow header every answer of this route carries.</summary>
    public string Allow { get; }

    /// <summary>Whether the route names one object (its URL has an id).</summary>
    public bool OnInstance => Kind is RouteKind.Instance or RouteKind.InstanceAction;

    /// <summary>The permissions that apply: the action's own, else the resource's; the root asks only for a signed-in user.</summary>
    public IReadOnlyList<PermissionRule> Permissions =>
        Action?.Permissions ?? Resource?.Permissions ?? [ApiPermissions.IsAuthenticated];

    /// <summary>The fields a write to this route reads: the action's, else the resource's.</summary>
    public IReadOnlyList<Field> InputFields => Action?.Fields ?? Resource?.DeclaredFields ?? [];

    /// <summary>The ASP.NET route template, with <c>{id}</c> for the object (built once: every link written is built from it).</summary>
    public string Template => _template ??= Kind switch
    {
        RouteKind.Root => RouteTable.Prefix,
        RouteKind.List => $"{RouteTable.Prefix}{Resource!.Path}/",
        RouteKind.Instance => $"{RouteTable.Prefix}{Resource!.Path}/{{id}}/",
        RouteKind.ListAction => $"{RouteTable.Prefix}{Resource!.Path}/{Action!.Path}/",
        _ => $"{RouteTable.Prefix}{Resource!.Path}/{{id}}/{Action!.Path}/",
    };

    private string? _template;

    /// <summary>The same route with DRF's format suffix (<c>/api/users.json</c>; the root's is <c>/api/.json</c>).</summary>
    public string SuffixTemplate => WithoutTrailingSlash(Template) + ".{format}";

    /// <summary>The path of this route for one object (or the only path, for routes without one).</summary>
    public string PathFor(string? id) => Template.Replace("{id}", id, StringComparison.Ordinal);

    /// <summary>The same path with a format suffix, as DRF's reverse() writes it: <c>/api/users/3.json</c>.</summary>
    public string SuffixedPathFor(string? id, string format) => WithoutTrailingSlash(PathFor(id)) + "." + format;

    // The root keeps its slash: DRF's root pattern sits inside "api/", so its suffixed form is /api/.json.
    private string WithoutTrailingSlash(string path) => Kind == RouteKind.Root ? path : path.TrimEnd('/');
}

/// <summary>A path of the API and what it resolved to.</summary>
public sealed record RouteMatch(ApiRoute Route, string? Id);

/// <summary>
/// Every route of the API, derived from the resource declarations in one place: the router maps them, links and
/// <c>Location</c> headers are reversed from them, the browsable page's breadcrumbs and the API root are built from them,
/// and hyperlinks in input are resolved against them (Django's resolve()).
/// </summary>
public sealed partial class RouteTable
{
    public const string Prefix = "/api/";

    private readonly List<(Regex Pattern, ApiRoute Route)> _patterns = [];
    private readonly Dictionary<ApiResource, ApiRoute> _lists = [];
    private readonly Dictionary<ApiResource, ApiRoute> _instances = [];
    private readonly HashSet<string> _otherPaths;

    /// <param name="otherPaths">
    /// Paths of the site outside the API (<c>/auth/login</c>): a hyperlink to one is an "incorrect match", not "no
    /// match".
    /// </param>
    public RouteTable(IEnumerable<ApiResource> resources, IEnumerable<string> otherPaths)
    {
        Resources = [.. resources];
        _otherPaths = [.. otherPaths];
        Root = new ApiRoute(RouteKind.Root, null, null);
        var all = new List<ApiRoute>();
        // Django's order for each prefix: the list, the collection's actions, the object, the object's actions; the root last.
        foreach (var resource in Resources)
        {
            var list = new ApiRoute(RouteKind.List, resource, null);
            var instance = new ApiRoute(RouteKind.Instance, resource, null);
            _lists[resource] = list;
            _instances[resource] = instance;
            all.Add(list);
            all.AddRange(resource.Actions.Where(a => !a.OnInstance).Select(a => new ApiRoute(RouteKind.ListAction, resource, a)));
            all.Add(instance);
            all.AddRange(resource.Actions.Where(a => a.OnInstance).Select(a => new ApiRoute(RouteKind.InstanceAction, resource, a)));
        }
        all.Add(Root);
        Routes = all;
        foreach (var route in all)
            _patterns.Add((PatternOf(route), route));
    }

    public IReadOnlyList<ApiResource> Resources { get; }

    /// <summary>Every route, in resolution order.</summary>
    public IReadOnlyList<ApiRoute> Routes { get; }

    public ApiRoute Root { get; }

    public ApiRoute ListOf(ApiResource resource) => _lists[resource];

    public ApiRoute InstanceOf(ApiResource resource) => _instances[resource];

    /// <summary>DRF's route regex: the object's id is anything without a slash or a dot; an optional <c>.format</c> suffix.</summary>
    private static Regex PatternOf(ApiRoute route)
    {
        if (route.Kind == RouteKind.Root)
            return new Regex($@"^{Regex.Escape(Prefix)}(?:\.(?<format>[a-z0-9]+)/?)?$", RegexOptions.CultureInvariant);
        var template = Regex.Escape(route.Template.TrimEnd('/')).Replace(@"\{id}", "(?<id>[^/.]+)", StringComparison.Ordinal);
        return new Regex($@"^{template}(?:/|\.(?<format>[a-z0-9]+)/?)$", RegexOptions.CultureInvariant);
    }

    /// <summary>What <paramref name="path"/> names in the API, or null when no route of the API matches it.</summary>
    public RouteMatch? Resolve(string path)
    {
        foreach (var (pattern, route) in _patterns)
        {
            var match = pattern.Match(path);
            if (match.Success)
                return new RouteMatch(route, match.Groups["id"].Success ? match.Groups["id"].Value : null);
        }
        return null;
    }

    /// <summary>Whether <paramref name="path"/> is a page of the site outside the API.</summary>
    public bool IsOtherPage(string path) => _otherPaths.Contains(path);

    /// <summary>DRF's get_breadcrumbs: each leading part of the path that is itself a route, with its view name.</summary>
    public IReadOnlyList<(string Path, string Name)> Breadcrumbs(string path)
    {
        var crumbs = new List<(string, string)>();
        var current = path;
        while (current.Length >= Prefix.Length)
        {
            if (Resolve(current) is { } match)
                crumbs.Insert(0, (current, match.Route.Name));
            var cut = current.TrimEnd('/').LastIndexOf('/');
            if (cut < 0)
                break;
            current = current[..(cut + 1)];
        }
        return crumbs;
    }
}
