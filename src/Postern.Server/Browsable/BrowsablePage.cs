using System.Text;
using System.Text.Json;
using Postern.Server.Api;
using Postern.Server.Csrf;
using Postern.Server.Sessions;

namespace Postern.Server.Browsable;

/// <summary>
/// The browsable API page (DRF's BrowsableAPIRenderer, simplified): breadcrumbs, the request and the
/// response as JSON with every URL a link, the allowed methods, login or logout in the header, and for
/// those allowed to write, a raw-JSON form that sends the CSRF token.
/// </summary>
public sealed class BrowsablePage : IApiHtmlRenderer
{
    public async Task RenderAsync(HttpContext context, ApiRequest api, ApiRoute route, ApiResponse response)
    {
        var request = context.Request;
        var user = api.IsAuthenticated ? api.User : null;
        // The page carries a token for its forms, so it (re)sends the CSRF cookie, as DRF's page does.
        var token = context.GetCsrfCookie().GetToken();
        var path = request.Path.Value ?? "/api/";
        var html = new Html();
        html.Raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Text(route.Name).Raw(" – Postern API</title>")
            .Raw(Html.Style).Raw("</head><body>");
        WriteHeader(html, user?.Username, token, path + request.QueryString);
        html.Raw("<main>");
        WriteBreadcrumbs(html, api.Routes.Breadcrumbs(path));
        html.Raw("<h1>").Text(route.Name).Raw("</h1>");
        if (route.Kind != RouteKind.Root && route.Description.Length > 0)
            html.Raw("<p class=\"description\">").Text(route.Description).Raw("</p>");
        html.Raw("<p class=\"meta\"><b>").Text(request.Method).Raw("</b> ").Text(path + request.QueryString).Raw("</p>");
        html.Raw("<pre class=\"response\"><span class=\"meta\"><b>HTTP ").Text(response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Raw(" ").Text(ReasonPhrase(response.Status)).Raw("</b>\nAllow: ").Text(route.Allow)
            .Raw("\nContent-Type: application/json\nVary: Accept\n</span>\n");
        if (response.Body is not null)
            WriteJson(html, BodyJson(response.Body), 0);
        html.Raw("</pre>");
        if (user is not null)
            await WriteFormsAsync(html, api, route, path);
        html.Raw("</main>");
        html.Raw("<script type=\"application/json\" id=\"drf_csrf\">").Raw(JsonSerializer.Serialize(new { csrfHeaderName = "X-CSRFTOKEN", csrfToken = token }))
            .Raw("</script>").Raw(Script).Raw("</body></html>");

        var bytes = Encoding.UTF8.GetBytes(html.ToString());
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(request.Method))
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private static void WriteHeader(Html html, string? username, string token, string here)
    {
        html.Raw("<header><a class=\"brand\" href=\"/api/\">Postern API</a><nav>");
        if (username is null)
        {
            html.Raw("<a id=\"login\" href=\"/api-auth/login/?next=").Text(Uri.EscapeDataString(here)).Raw("\">Log in</a>");
        }
        else
        {
            html.Raw("<span id=\"whoami\">").Text(username).Raw("</span> ")
                .Raw("<form id=\"logoutForm\" method=\"post\" style=\"display:inline\" action=\"/api-auth/logout/?next=/api/\">")
                .Raw("<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"").Text(token).Raw("\">")
                .Raw("<button type=\"submit\" id=\"logout\">Log out</button></form>");
        }
        html.Raw("</nav></header>");
    }

    private static void WriteBreadcrumbs(Html html, IReadOnlyList<(string Path, string Name)> crumbs)
    {
        html.Raw("<ul class=\"breadcrumb\">");
        foreach (var (href, label) in crumbs)
            html.Raw("<li><a href=\"").Text(href).Raw("\">").Text(label).Raw("</a></li>");
        html.Raw("</ul>");
    }

    /// <summary>The body as a JSON tree, for printing: written once more, off the hot path (HTML is for people).</summary>
    private static JsonElement BodyJson(ApiBody body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            body.Write(writer);
        return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
    }

    /// <summary>Pretty-printed JSON in which every http(s) string is a link.</summary>
    private static void WriteJson(Html html, JsonElement element, int depth)
    {
        var indent = new string(' ', (depth + 1) * 4);
        var closing = new string(' ', depth * 4);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (!element.EnumerateObject().Any())
                {
                    html.Raw("{}");
                    break;
                }
                html.Raw("{\n");
                var firstProperty = true;
                foreach (var property in element.EnumerateObject())
                {
                    html.Raw(firstProperty ? "" : ",\n").Raw(indent).Raw("<span class=\"key\">").Text(JsonText(property.Name)).Raw("</span>: ");
                    WriteJson(html, property.Value, depth + 1);
                    firstProperty = false;
                }
                html.Raw("\n").Raw(closing).Raw("}");
                break;
            case JsonValueKind.Array:
                if (element.GetArrayLength() == 0)
                {
                    html.Raw("[]");
                    break;
                }
                html.Raw("[\n");
                var firstItem = true;
                foreach (var item in element.EnumerateArray())
                {
                    html.Raw(firstItem ? "" : ",\n").Raw(indent);
                    WriteJson(html, item, depth + 1);
                    firstItem = false;
                }
                html.Raw("\n").Raw(closing).Raw("]");
                break;
            case JsonValueKind.String when element.GetString() is { } url && (url.StartsWith("http://", StringComparison.Ordinal) || url.StartsWith("https://", StringComparison.Ordinal)):
                html.Raw("\"<a href=\"").Text(url).Raw("\" rel=\"nofollow\">").Text(url).Raw("</a>\"");
                break;
            case JsonValueKind.String:
                html.Text(JsonText(element.GetString()!));
                break;
            default:
                html.Text(element.GetRawText());
                break;
        }
    }

    private static readonly JsonSerializerOptions ReadableJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A JSON string literal as a person reads it (no \u escapes); the HTML encoder makes it safe.</summary>
    private static string JsonText(string value) => JsonSerializer.Serialize(value, ReadableJson);

    private static readonly string[] BodyMethods = ["POST", "PUT", "PATCH"];

    private static async Task WriteFormsAsync(Html html, ApiRequest request, ApiRoute route, string path)
    {
        foreach (var method in BodyMethods)
        {
            if (!await OptionsMetadata.MayWriteAsync(request, route, method))
                continue;
            html.Raw("<form class=\"write\" data-method=\"").Raw(method).Raw("\" action=\"").Text(path).Raw("\">")
                .Raw("<h2>").Raw(method).Raw("</h2><label>Content (JSON)<textarea name=\"_content\" id=\"content-").Raw(method).Raw("\">{}</textarea></label>")
                .Raw("<button type=\"submit\" id=\"submit-").Raw(method).Raw("\">").Raw(method).Raw("</button></form>");
        }
        if (await OptionsMetadata.MayWriteAsync(request, route, "DELETE"))
        {
            html.Raw("<form class=\"write\" data-method=\"DELETE\" action=\"").Text(path).Raw("\">")
                .Raw("<button type=\"submit\" id=\"submit-DELETE\">DELETE</button></form>");
        }
        html.Raw("<p class=\"error\" id=\"write-error\"></p>");
    }

    // Sends the write forms with fetch, the token in the header, then shows where the server points.
    private const string Script = """
        <script>
        (function () {
          var csrf = JSON.parse(document.getElementById('drf_csrf').textContent);
          document.querySelectorAll('form.write').forEach(function (form) {
            form.addEventListener('submit', function (event) {
              event.preventDefault();
              var method = form.dataset.method;
              var area = form.querySelector('textarea');
              var init = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
              init.headers[csrf.csrfHeaderName] = csrf.csrfToken;
              if (area) { init.headers['Content-Type'] = 'application/json'; init.body = area.value; }
              fetch(form.getAttribute('action'), init).then(function (response) {
                if (response.ok) {
                  var next = response.headers.get('Location') || (method === 'DELETE' ? form.getAttribute('action').replace(/[^\/]+\/$/, '') : form.getAttribute('action'));
                  window.location.href = next;
                } else {
                  return response.text().then(function (text) { document.getElementById('write-error').textContent = response.status + ' ' + text; });
                }
              });
            });
          });
        })();
        </script>
        """;

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
