using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Postern.Server.Http;

namespace Postern.Server.Cors;

/// <summary>
/// Frontends on other origins (<c>Postern:Cors</c>): django-cors-headers' CORS_ALLOWED_ORIGINS, with
/// CORS_ALLOW_CREDENTIALS = True (a session backend is nothing without its cookies).
/// </summary>
public sealed class CorsOptions
{
    public const string Section = "Postern:Cors";

    /// <summary>
    /// CORS_ALLOWED_ORIGINS: <c>http://localhost:5173</c>, <c>https://app.example.com</c>, or <c>https://*.example.com</c>
    /// (that domain and its subdomains, https only), as the CSRF trusted origins are written. An entry may also be several,
    /// comma-separated. Empty: no CORS at all, every answer as without this feature.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Whether the allowed origins are CSRF trusted origins too (as if also in <c>Postern:Csrf:TrustedOrigins</c>), so that
    /// their pages may write: Django projects list them in both CORS_ALLOWED_ORIGINS and CSRF_TRUSTED_ORIGINS. <c>false</c>:
    /// they may read, and write only if <c>Postern:Csrf:TrustedOrigins</c> lists them too.
    /// </summary>
    public bool TrustForCsrf { get; set; } = true;

    /// <summary>CORS_PREFLIGHT_MAX_AGE: how long a browser may reuse a preflight's answer; 0 sends no Access-Control-Max-Age.</summary>
    [Range(0, int.MaxValue)]
    public int PreflightMaxAgeSeconds { get; set; } = 86_400;

    /// <summary>The configured origins, each entry split at commas, written as browsers send them (<see cref="OriginList.Normalize"/>).</summary>
    public IReadOnlyList<string> Origins() =>
        [.. Entries().Select(entry => OriginList.Normalize(entry.Origin))];

    /// <summary>Each origin with the setting's path (<c>Postern:Cors:AllowedOrigins:0</c>) that gave it.</summary>
    internal IEnumerable<(string Path, string Origin)> Entries() =>
        AllowedOrigins.SelectMany((entry, i) => entry
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(origin => (i == SingleValueIndex ? $"{Section}:{nameof(AllowedOrigins)}" : $"{Section}:{nameof(AllowedOrigins)}:{i}",
                origin)));

    /// <summary>Which entry came from the setting's own value rather than an indexed child (<see cref="CorsOptionsSingleValue"/>).</summary>
    internal int SingleValueIndex { get; set; } = -1;
}

/// <summary>
/// Stops the server at start on an entry that no browser could send as its Origin, naming it: a path or a trailing slash
/// (<c>http://localhost:5173/</c>), no scheme, a wildcard elsewhere than before the domain, <c>null</c>.
/// </summary>
public sealed class CorsOptionsValidator : IValidateOptions<CorsOptions>
{
    public ValidateOptionsResult Validate(string? name, CorsOptions options) =>
        options.Entries()
            .Select(entry => OriginList.ProblemWithOrigin(entry.Origin) is { } problem ? $"{entry.Path}: {problem}." : null)
            .OfType<string>()
            .ToList() is { Count: > 0 } problems
            ? ValidateOptionsResult.Fail(problems)
            : ValidateOptionsResult.Success;
}

/// <summary>
/// One origin list as a single value (<c>Postern__Cors__AllowedOrigins=http://localhost:5173</c>, without an index), which
/// the configuration binder would otherwise drop without a word.
/// </summary>
public sealed class CorsOptionsSingleValue(IConfiguration configuration) : IPostConfigureOptions<CorsOptions>
{
    public void PostConfigure(string? name, CorsOptions options)
    {
        var single = configuration.GetSection($"{CorsOptions.Section}:{nameof(CorsOptions.AllowedOrigins)}").Value;
        if (string.IsNullOrWhiteSpace(single))
            return;
        options.SingleValueIndex = options.AllowedOrigins.Count;
        options.AllowedOrigins.Add(single);
    }
}
