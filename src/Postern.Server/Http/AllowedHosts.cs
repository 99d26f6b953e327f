using System.Text.RegularExpressions;

namespace Postern.Server.Http;

/// <summary>
/// Django's ALLOWED_HOSTS (<c>Postern:AllowedHosts</c>): the names this site answers to. A request for any other host is
/// refused before anything is built from its Host header: links in answers, the CSRF Origin and Referer checks. It stops
/// host-header poisoning (reset links, cached pages pointing elsewhere) and DNS rebinding, where an attacker's name,
/// resolved to this server, makes a visitor's browser treat this site as the attacker's origin.
/// </summary>
public sealed partial class AllowedHosts
{
    public const string Section = "Postern:AllowedHosts";

    /// <summary>A development machine's names and the seed's Docker service name; a public name must be added.</summary>
    public static readonly IReadOnlyList<string> Defaults = ["localhost", "127.0.0.1", "[::1]", "backend"];

    private readonly string[] _patterns;

    public AllowedHosts(IConfiguration configuration)
    {
        // Read whole rather than bound onto the defaults: the configured list replaces them, as Django's setting does.
        var configured = configuration.GetSection(Section).Get<string[]>();
        _patterns = [.. (configured is { Length: > 0 } ? configured : Defaults).Select(p => p.Trim().ToLowerInvariant())];
    }

    public IReadOnlyList<string> Patterns => _patterns;

    /// <summary>
    /// Django's HttpRequest.get_host check: null when the host is allowed, otherwise Django's message. <c>*</c> allows any
    /// host, <c>.example.com</c> the domain and its subdomains, anything else exactly that name; the port is not compared.
    /// </summary>
    public string? Refusal(string host)
    {
        var domain = DomainOf(host);
        if (domain.Length > 0 && _patterns.Any(p => p == "*" || DomainPattern.Matches(domain, p)))
            return null;
        var message = $"Invalid HTTP_HOST header: {PythonRepr(host)}.";
        return domain.Length > 0
            ? message + $" You may need to add {PythonRepr(domain)} to ALLOWED_HOSTS."
            : message + " The domain name provided is not valid according to RFC 1034/1035.";
    }

    /// <summary>Django's split_domain_port: the lower-cased name without its port and trailing dot, or "" when malformed.</summary>
    private static string DomainOf(string host)
    {
        host = host.ToLowerInvariant();
        if (!HostPattern().IsMatch(host))
            return "";
        if (host.EndsWith(']'))
            return host;
        var colon = host.LastIndexOf(':');
        var domain = colon < 0 ? host : host[..colon];
        return domain.EndsWith('.') ? domain[..^1] : domain;
    }

    /// <summary>Python's repr() of a string, as Django's message shows the host.</summary>
    private static string PythonRepr(string text)
    {
        var quote = text.Contains('\'', StringComparison.Ordinal) && !text.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var escaped = text.Replace("\\", "\\\\", StringComparison.Ordinal);
        if (quote == '\'')
            escaped = escaped.Replace("'", "\\'", StringComparison.Ordinal);
        return quote + escaped + quote;
    }

    // Django's host_validation_re.
    [GeneratedRegex(@"^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:[0-9]+)?\z")]
    private static partial Regex HostPattern();
}

/// <summary>Refuses a request for a host that is not allowed, with Django's message as DRF-style JSON (400).</summary>
public sealed class AllowedHostsMiddleware(RequestDelegate next, AllowedHosts hosts)
{
    public Task InvokeAsync(HttpContext context) =>
        hosts.Refusal(context.Request.Host.Value ?? "") is { } refusal
            ? JsonResponses.WriteDetailAsync(context, StatusCodes.Status400BadRequest, refusal)
            : next(context);
}
