using System.ComponentModel.DataAnnotations;
using Postern.Protocol;

namespace Postern.Server.Csrf;

/// <summary>The CSRF cookie and origin checks (<c>Postern:Csrf</c>), Django's CSRF_* settings.</summary>
public sealed class CsrfOptions
{
    public const string Section = "Postern:Csrf";

    [Required]
    public string CookieName { get; set; } = CookieNames.Csrf;

    /// <summary>Django's CSRF_COOKIE_AGE: 52 weeks.</summary>
    [Range(1, int.MaxValue)]
    public int CookieAgeSeconds { get; set; } = 31_449_600;

    public string? CookieDomain { get; set; }
    public string CookiePath { get; set; } = "/";
    public bool CookieSecure { get; set; }
    /// <summary>
    /// Django's CSRF_COOKIE_SAMESITE: <c>Lax</c>, <c>Strict</c>, <c>None</c> (which always adds <c>Secure</c>: browsers
    /// drop a SameSite=None cookie without it), or empty for no attribute. <c>None</c> for a frontend on another site.
    /// </summary>
    [RegularExpression("^(?i:Lax|Strict|None)?$", ErrorMessage = "Postern:Csrf:CookieSameSite must be Lax, Strict, None or empty.")]
    public string CookieSameSite { get; set; } = "Lax";

    /// <summary>
    /// <c>Partitioned</c> (CHIPS; Postern's own, Django has no such setting): for a frontend on another site in browsers that
    /// block third-party cookies. The browser keeps the CSRF cookie for that frontend's site alone and sends it with the
    /// frontend's requests; it always comes with <c>Secure</c>, and belongs with <c>CookieSameSite</c> = <c>None</c>.
    /// </summary>
    public bool CookiePartitioned { get; set; }

    /// <summary>Django's CSRF_TRUSTED_ORIGINS: <c>https://app.example.com</c> or <c>https://*.example.com</c>.</summary>
    public List<string> TrustedOrigins { get; set; } = [];
}
