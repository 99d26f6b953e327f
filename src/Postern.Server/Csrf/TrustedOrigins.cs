using Microsoft.Extensions.Options;
using Postern.Server.Http;

namespace Postern.Server.Csrf;

/// <summary>
/// CSRF_TRUSTED_ORIGINS, parsed once at start as Django does: exact origins, wildcard domains by
/// scheme (<c>https://*.example.com</c> → https: .example.com), and every entry's netloc for the Referer check.
/// </summary>
public sealed class TrustedOrigins
{
    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);
    private readonly List<(string Scheme, string Domain)> _wildcards = [];
    private readonly List<string> _netlocs = [];

    public TrustedOrigins(IOptions<CsrfOptions> options)
    {
        foreach (var origin in options.Value.TrustedOrigins)
        {
            if (!origin.Contains("://", StringComparison.Ordinal))
                throw new OptionsValidationException(CsrfOptions.Section, typeof(CsrfOptions),
                    [$"Trusted origins must start with a scheme (https://...), as in Django >= 4.0; found '{origin}'."]);
            if (!SplitUrl.TryParse(origin, out var split))
                continue;
            _netlocs.Add(split.Netloc.TrimStart('*'));
            if (origin.Contains('*', StringComparison.Ordinal))
                _wildcards.Add((split.Scheme, split.Netloc.TrimStart('*')));
            else
                _exact.Add(origin);
        }
    }

    /// <summary>Whether an Origin header is trusted by configuration (exactly, or by a wildcard of the same scheme).</summary>
    public bool Allows(string origin)
    {
        if (_exact.Contains(origin))
            return true;
        if (_wildcards.Count == 0 || !SplitUrl.TryParse(origin, out var split))
            return false;
        foreach (var (scheme, domain) in _wildcards)
        {
            if (scheme == split.Scheme && DomainPattern.Matches(split.Netloc, domain))
                return true;
        }
        return false;
    }

    /// <summary>Whether a Referer's host is one of the trusted origins' (any scheme, as Django's Referer check does).</summary>
    public bool AllowsRefererHost(string netloc)
    {
        foreach (var pattern in _netlocs)
        {
            if (DomainPattern.Matches(netloc, pattern))
                return true;
        }
        return false;
    }
}
