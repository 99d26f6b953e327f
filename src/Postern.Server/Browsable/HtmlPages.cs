using System.Security.Cryptography;
using System.Text;

namespace Postern.Server.Browsable;

/// <summary>
/// What every HTML page of Postern shares (the browsable API and the login page): the head with the pages' own style, the
/// script, and the headers that keep a page safe. The style and script live in Assets/ and are embedded in the assembly;
/// they are written inline, so the pages need nothing but the paths a proxy already forwards, and the
/// Content-Security-Policy allows exactly them by their SHA-256: an inline script or style that got in any other way
/// (an escaping bug) would not run.
/// </summary>
public static class HtmlPages
{
    public static string Style { get; } = Load("browsable.css");

    public static string Script { get; } = Load("browsable.js");

    /// <summary>
    /// Nothing from elsewhere; fetch only to this site (the forms and OPTIONS); forms post only here; no framing
    /// (with X-Frame-Options for older browsers): a page with a logout button and write forms must not be clickjacked.
    /// </summary>
    public static string ContentSecurityPolicy { get; } =
        $"default-src 'none'; style-src '{Sha256(Style)}'; script-src '{Sha256(Script)}'; connect-src 'self'; "
        + "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    /// <summary>The document up to the end of its head. The empty icon keeps the browser from asking for /favicon.ico.</summary>
    public static Html Begin(string title) =>
        new Html().Raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Raw("<meta name=\"robots\" content=\"NONE,NOARCHIVE\"><link rel=\"icon\" href=\"data:,\">")
            .Raw("<title>").Text(title).Raw(" – Postern API</title><style>").Raw(Style).Raw("</style></head>");

    /// <summary>The page's script, after the content it works on.</summary>
    public static Html WriteScript(this Html html) => html.Raw("<script>").Raw(Script).Raw("</script>");

    public static async Task SendAsync(HttpContext context, Html html)
    {
        var bytes = Encoding.UTF8.GetBytes(html.ToString());
        var response = context.Response;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
            await response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private static string Load(string name)
    {
        using var stream = typeof(HtmlPages).Assembly.GetManifestResourceStream("Postern.Browsable." + name)
            ?? throw new InvalidOperationException($"The browsable page's {name} is not embedded in the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string Sha256(string inline) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline)));
}
