using System.ComponentModel.DataAnnotations;
using Postern.Protocol;

namespace Postern.Server.Sessions;

/// <summary>The session cookie and lifetime (<c>Postern:Sessions</c>), Django's SESSION_* settings.</summary>
public sealed class ServerSessionOptions
{
    public const string Section = "Postern:Sessions";

    [Required]
    public string CookieName { get; set; } = CookieNames.Session;

    /// <summary>Django's SESSION_COOKIE_AGE: 2 weeks. Sessions expire this long after login, whatever the activity.</summary>
    [Range(1, int.MaxValue)]
    public int AgeSeconds { get; set; } = 1_209_600;

    public string? CookieDomain { get; set; }
    public string CookiePath { get; set; } = "/";
    public bool CookieSecure { get; set; }
    /// <summary>
    /// Django's SESSION_COOKIE_SAMESITE: <c>Lax</c>, <c>Strict</c>, <c>None</c> (which always adds <c>Secure</c>: browsers
    /// drop a SameSite=None cookie without it), or empty for no attribute. <c>None</c> for a frontend on another site.
    /// </summary>
    [RegularExpression("^(?i:Lax|Strict|None)?$", ErrorMessage = "Postern:Sessions:CookieSameSite must be Lax, Strict, None or empty.")]
    public string CookieSameSite { get; set; } = "Lax";

    /// <summary>
    /// <c>Partitioned</c> (CHIPS; Postern's own, Django has no such setting): for a frontend on another site in browsers that
    /// block third-party cookies. The browser keeps the session cookie for that frontend's site alone and sends it with the
    /// frontend's requests; it always comes with <c>Secure</c>, and belongs with <c>CookieSameSite</c> = <c>None</c>.
    /// </summary>
    public bool CookiePartitioned { get; set; }

    /// <summary>
    /// Django's SESSION_SAVE_EVERY_REQUEST: each use moves the expiry to <see cref="AgeSeconds"/> from then (written, and the
    /// cookie sent again, at most once a minute per session). Off: a session ends <see cref="AgeSeconds"/> after login.
    /// </summary>
    public bool SlidingExpiration { get; set; }

    /// <summary>
    /// Django's SESSION_EXPIRE_AT_BROWSER_CLOSE: the cookie has neither Expires nor Max-Age, so the browser forgets it when
    /// it closes; the server still ends the session after <see cref="AgeSeconds"/>.
    /// </summary>
    public bool ExpireAtBrowserClose { get; set; }

    /// <summary>
    /// About this many live sessions per user at most: when a login takes the user a tenth beyond it, the oldest end, down
    /// to this many. In batches, because ending sessions is announced to every instance's cache, and one login at a time
    /// would let a login flood empty the caches. Without a bound a script that logs in forever fills the table and the
    /// user's session list (Django has none). 0: no bound.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxPerUser { get; set; } = 100;
}
