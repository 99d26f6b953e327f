using Microsoft.Extensions.Options;
using Postern.Server.Http;

namespace Postern.Server.Csrf;

/// <summary>
/// CSRF_TRUSTED_ORIGINS, parsed once at start as Django does (<see cref="OriginList"/>): exact origins, wildcard domains by
/// scheme (<c>https://*.example.com</c> → https: .example.com), and every entry's netloc for the Referer check. Beside the
/// configured ones, the origins the composition adds (the CORS allowed origins, unless they are kept apart).
/// </summary>
public sealed class TrustedOrigins
{
    private readonly OriginList _origins;

    public TrustedOrigins(IOptions<CsrfOptions> options, IEnumerable<string>? alsoTrusted = null)
    {
        foreach (var origin in options.Value.TrustedOrigins)
        {
            if (!origin.Contains("://", StringComparison.Ordinal))
                throw new OptionsValidationException(CsrfOptions.Section, typeof(CsrfOptions),
                    [$"Trusted origins must start with a scheme (https://...), as in Django >= 4.0; found '{origin}'."]);
        }
        _origins = new OriginList([.. options.Value.TrustedOrigins, .. alsoTrusted ?? []]);
    }

    /// <summary>Whether an Origin header is trusted by configuration (exactly, or by a wildcard of the same scheme).</summary>
    public bool Allows(string origin) => _origins.Allows(origin);

    /// <summary>Whether a Referer's host is one of the trusted origins' (any scheme, as Django's Referer check does).</summary>
    public bool AllowsRefererHost(string netloc) => _origins.AllowsRefererHost(netloc);
}
