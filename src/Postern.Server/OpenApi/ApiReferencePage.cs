using Microsoft.AspNetCore.Routing;
using Postern.Server.Api;
using Postern.Server.Http;
using Scalar.AspNetCore;

namespace Postern.Server.OpenApi;

/// <summary>
/// The interactive reference over the document: Scalar's page, its script served from the package itself (no CDN), with
/// everything that would reach another site turned off (web fonts, telemetry, the AI agent, MCP, the hosted client). The
/// page is framed by nobody and runs under a Content-Security-Policy that lets it talk to this origin only.
/// </summary>
public static class ApiReferencePage
{
    /// <summary>The files the page loads beside itself, served from the Scalar package.</summary>
    public static readonly IReadOnlyList<string> Files = ["scalar.js", "scalar.aspnetcore.js", "favicon.svg"];

    private const string Allow = "GET, HEAD";

    public static IEndpointRouteBuilder MapApiReferencePage(this IEndpointRouteBuilder app, string path, string documentPath)
    {
        // HEAD as well as GET, as every other page of the site (Kestrel sends no body to a HEAD).
        MapScalar(app, path, documentPath).WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
        // Scalar maps GET alone and answers any other name under the page with the page itself: a write is told which
        // methods there are, a mistyped file is not found, as everywhere else on the site.
        app.MapMethods(path + "{file?}", [HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete],
            static context => JsonResponses.WriteMethodNotAllowedAsync(context, Allow));
        return app;
    }

    private static IEndpointConventionBuilder MapScalar(IEndpointRouteBuilder app, string path, string documentPath) =>
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
            .AddEndpointFilter(async (invocation, next) =>
            {
                var request = invocation.HttpContext.Request;
                var file = request.Path.Value is { } value && value.StartsWith(path, StringComparison.Ordinal) ? value[path.Length..] : "";
                if (file.Length > 0 && !Files.Contains(file))
                {
                    await JsonResponses.WriteDetailAsync(invocation.HttpContext, StatusCodes.Status404NotFound, ApiResponse.NotFoundDetail);
                    return Results.Empty;
                }
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
