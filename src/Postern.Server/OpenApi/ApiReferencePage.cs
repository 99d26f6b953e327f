using Postern.Server.Api;
using Scalar.AspNetCore;

namespace Postern.Server.OpenApi;

/// <summary>
/// The interactive reference over the document: Scalar's page, its script served from the package itself (no CDN), with
/// everything that would reach another site turned off (web fonts, telemetry, the AI agent, MCP, the hosted client). The
/// page is framed by nobody and runs under a Content-Security-Policy that lets it talk to this origin only.
/// </summary>
public static class ApiReferencePage
{
    public static IEndpointConventionBuilder MapApiReferencePage(this IEndpointRouteBuilder app, string path, string documentPath) =>
        app.MapScalarApiReference(path.TrimEnd('/'), options =>
            {
                options.WithTitle("Postern API reference")
                    .WithOpenApiRoutePattern(documentPath)
                    .DisableDefaultFonts()
                    .DisableTelemetry()
                    .DisableAgent()
                    .DisableMcp()
                    .HideClientButton()
                    .HideDeveloperTools()
                    .ExpandAllTags()
                    .WithNonce();
            })
            .AddEndpointFilter(static async (invocation, next) =>
            {
                var response = invocation.HttpContext.Response;
                // At response start: the page's nonce is only drawn while the page is written.
                response.OnStarting(static state =>
                {
                    var context = (HttpContext)state;
                    var nonce = context.Items[ScalarOptions.NonceHttpContextItemKey] as string;
                    context.Response.Headers.XFrameOptions = "DENY";
                    context.Response.Headers.ContentSecurityPolicy = Policy(nonce);
                    return Task.CompletedTask;
                }, invocation.HttpContext);
                return await next(invocation);
            });

    /// <summary>
    /// Scripts: this origin's and the page's own inline one (by its nonce); styles inline too, as Scalar's components set
    /// them; every fetch to this origin only (the document, and requests tried from the page).
    /// </summary>
    private static string Policy(string? nonce) => string.Join("; ",
        "default-src 'self'",
        $"script-src 'self'{(nonce is null ? "" : $" 'nonce-{nonce}'")}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'");
}
