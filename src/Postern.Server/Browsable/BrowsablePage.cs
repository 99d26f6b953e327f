using System.Globalization;
using System.Text.Json;
using Postern.Server.Api;
using Postern.Server.Csrf;

namespace Postern.Server.Browsable;

/// <summary>
/// The browsable API page (DRF's BrowsableAPIRenderer): breadcrumbs; DELETE (behind a confirmation), OPTIONS and GET with its
/// format switcher; the description, extra actions and page links; the request and the response (status line, headers, the
/// JSON with every URL a link); for those allowed to write, forms derived from the fields (<see cref="EditForms"/>). Login or
/// logout and the API docs are in the header.
/// </summary>
public sealed class BrowsablePage : IApiHtmlRenderer
{
    public const string DocsPath = "/api/docs/";

    public async Task RenderAsync(HttpContext context, ApiRequest api, ApiRoute route, ApiResponse response)
    {
        var request = context.Request;
        var user = api.IsAuthenticated ? api.User : null;
        // The page carries a token for its forms, so it (re)sends the CSRF cookie, as DRF's page does.
        var token = context.GetCsrfCookie().GetToken();
        var path = request.Path.Value ?? RouteTable.Prefix;
        var here = path + request.QueryString;
        var id = context.GetRouteValue("id")?.ToString();
        // Writes and OPTIONS go to the route's own path: a ?format= or .api suffix would make fetch get this page again.
        var target = route.PathFor(id);
        var body = response.Body is null ? (JsonElement?)null : JsonView.Parse(response.Body);
        var mayDelete = user is not null && await OptionsMetadata.MayWriteAsync(api, route, "DELETE");

        var html = HtmlPages.Begin(route.Name).Raw("<body>");
        WriteNavbar(html, user?.Username, token, here);
        html.Raw("<div class=\"container\">");
        WriteBreadcrumbs(html, api.Routes.Breadcrumbs(path));
        html.Raw("<main id=\"content\"><div class=\"page-header\"><h1>").Text(route.Name).Raw("</h1><div class=\"request-buttons\">");
        if (mayDelete)
            EditForms.WriteDeleteButton(html);
        html.Raw("<button type=\"button\" class=\"primary\" id=\"options-button\" data-url=\"").Text(target).Raw("\"")
            .Raw(" title=\"Make an OPTIONS request on the ").Text(route.Name).Raw(" resource\">OPTIONS</button>");
        if (route.Methods.Contains("GET"))
            WriteFormatSwitcher(html, request, route, here);
        html.Raw("</div></div>");
        if (route.Kind != RouteKind.Root && route.Description.Length > 0)
            html.Raw("<p class=\"description\">").Text(route.Description).Raw("</p>");
        WriteExtraActions(html, api.Routes, route, id);
        if (response.Body is IPagedBody paged)
            PageLinks.Write(html, request, paged.Page);
        html.Raw("<pre class=\"request\" id=\"request-line\"><b>").Text(request.Method).Raw("</b> ").Text(here).Raw("</pre>");
        WriteResponse(html, context, route, response, body);
        if (user is not null)
        {
            var showsObject = route.Kind == RouteKind.Instance && api.Method == "GET" && response.Status == StatusCodes.Status200OK;
            await EditForms.WriteAsync(html, api, route, target, here, showsObject ? body : null);
        }
        html.Raw("</main></div>");
        if (mayDelete)
            EditForms.WriteDeleteDialog(html, route, target, AfterDelete(api.Routes, route, here));
        html.Raw("<script type=\"application/json\" id=\"drf_csrf\">")
            .Raw(JsonSerializer.Serialize(new { csrfHeaderName = "X-CSRFTOKEN", csrfToken = token })).Raw("</script>")
            .WriteScript().Raw("</body></html>");
        await HtmlPages.SendAsync(context, html);
    }

    private static void WriteNavbar(Html html, string? username, string token, string here)
    {
        html.Raw("<header class=\"navbar\"><div class=\"container\">")
            .Raw("<a class=\"brand\" href=\"").Raw(RouteTable.Prefix).Raw("\">Postern API</a>")
            .Raw("<nav class=\"userlinks\" aria-label=\"Account\"><a id=\"docs-link\" href=\"").Raw(DocsPath).Raw("\">API docs</a>");
        if (username is null)
        {
            html.Raw("<a id=\"login\" href=\"").Raw(LoginPages.LoginPath).Raw("?next=").Text(Uri.EscapeDataString(here))
                .Raw("\">Log in</a>");
        }
        else
        {
            html.Raw("<span id=\"whoami\">").Text(username).Raw("</span>")
                .Raw("<form id=\"logoutForm\" method=\"post\" action=\"").Raw(LoginPages.LogoutPath).Raw("?next=").Raw(RouteTable.Prefix)
                .Raw("\">")
                .Raw("<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"").Text(token).Raw("\">")
                .Raw("<button type=\"submit\" id=\"logout\" class=\"link-button\">Log out</button></form>");
        }
        html.Raw("</nav></div></header>");
    }

    private static void WriteBreadcrumbs(Html html, IReadOnlyList<(string Path, string Name)> crumbs)
    {
        html.Raw("<nav aria-label=\"Breadcrumb\"><ul class=\"breadcrumb\">");
        for (var i = 0; i < crumbs.Count; i++)
        {
            var (href, label) = crumbs[i];
            html.Raw("<li><a href=\"").Text(href).Raw("\"").Raw(i == crumbs.Count - 1 ? " aria-current=\"page\"" : "").Raw(">")
                .Text(label).Raw("</a></li>");
        }
        html.Raw("</ul></nav>");
    }

    /// <summary>DRF's GET button with its formats: the page again, as JSON, as this page (links to <c>?format=</c>).</summary>
    private static void WriteFormatSwitcher(Html html, HttpRequest request, ApiRoute route, string here)
    {
        html.Raw("<div class=\"button-group\" role=\"group\" aria-label=\"GET and its formats\">")
            .Raw("<a class=\"button primary\" id=\"get-button\" rel=\"nofollow\" href=\"").Text(here)
            .Raw("\" title=\"Make a GET request on the ").Text(route.Name).Raw(" resource\">GET</a>");
        foreach (var format in (string[])["json", "api"])
        {
            html.Raw("<a class=\"button format\" id=\"format-").Raw(format).Raw("\" rel=\"nofollow\" href=\"")
                .Text(ApiLinks.WithQueryParameter(request, "format", format)).Raw("\" title=\"Make a GET request on the ").Text(route.Name)
                .Raw(" resource with the format set to `").Raw(format).Raw("`\">").Raw(format).Raw("</a>");
        }
        html.Raw("</div>");
    }

    /// <summary>DRF's "Extra Actions": the named actions beside the list or the object shown.</summary>
    private static void WriteExtraActions(Html html, RouteTable routes, ApiRoute route, string? id)
    {
        if (route.Kind is not (RouteKind.List or RouteKind.Instance))
            return;
        var actions = routes.Routes
            .Where(r => r.Resource == route.Resource && r.Action is not null && r.OnInstance == (route.Kind == RouteKind.Instance))
            .ToList();
        if (actions.Count == 0)
            return;
        html.Raw("<p class=\"extra-actions\">Extra actions: ");
        for (var i = 0; i < actions.Count; i++)
            html.Raw(i == 0 ? "" : ", ").Raw("<a href=\"").Text(actions[i].PathFor(id)).Raw("\">").Text(actions[i].Name).Raw("</a>");
        html.Raw("</p>");
    }

    /// <summary>The answer as a JSON client gets it: status line, the headers that matter to one, the body.</summary>
    private static void WriteResponse(Html html, HttpContext context, ApiRoute route, ApiResponse response, JsonElement? body)
    {
        html.Raw("<pre class=\"response\" id=\"response\"><span class=\"meta\"><b>HTTP ")
            .Text(response.Status.ToString(CultureInfo.InvariantCulture)).Raw(" ")
            .Text(Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(response.Status)).Raw("</b>");
        WriteHeader(html, "Allow", route.Allow);
        if (body is not null)
            WriteHeader(html, "Content-Type", "application/json");
        WriteHeader(html, "Retry-After", context.Response.Headers.RetryAfter.ToString());
        WriteHeader(html, "Vary", context.Response.Headers.Vary.ToString());
        if (response.Location is { } location)
        {
            html.Raw("\n<b>Location:</b> <span class=\"lit\"><a href=\"").Text(location).Raw("\" rel=\"nofollow\">").Text(location)
                .Raw("</a></span>");
        }
        html.Raw("\n\n</span>");
        if (body is { } json)
            JsonView.Write(html, json);
        html.Raw("</pre>");
    }

    private static void WriteHeader(Html html, string name, string value)
    {
        if (value.Length > 0)
            html.Raw("\n<b>").Raw(name).Raw(":</b> <span class=\"lit\">").Text(value).Raw("</span>");
    }

    /// <summary>After a DELETE the object's page is gone: its list, or the page itself for anything else.</summary>
    private static string AfterDelete(RouteTable routes, ApiRoute route, string here) =>
        route.Kind == RouteKind.Instance && route.Resource is { } resource ? routes.ListOf(resource).PathFor(null) : here;
}
