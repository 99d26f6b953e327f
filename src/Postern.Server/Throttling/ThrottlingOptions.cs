using System.ComponentModel.DataAnnotations;

namespace Postern.Server.Throttling;

/// <summary>
/// Failed logins, counted per account tried and per client address (<c>Postern:Throttling</c>). The defaults follow
/// ASP.NET Core Identity's lockout (5 failures) and OWASP's advice: a lock that starts short and grows, never permanent.
/// </summary>
public sealed class ThrottlingOptions
{
    public const string Section = "Postern:Throttling";

    public bool Enabled { get; set; } = true;

    /// <summary>Failures for one account, within the window, that lock it.</summary>
    [Range(1, int.MaxValue)]
    public int AccountFailures { get; set; } = 5;

    /// <summary>An account's count starts again once it has been quiet (no failure, no lock) this long.</summary>
    [Range(1, int.MaxValue)]
    public int AccountWindowSeconds { get; set; } = 900;

    /// <summary>The first lock; each further failure doubles it.</summary>
    [Range(1, int.MaxValue)]
    public int AccountLockSeconds { get; set; } = 60;

    [Range(1, int.MaxValue)]
    public int AccountMaxLockSeconds { get; set; } = 3600;

    /// <summary>More failures than this from one address within a minute throttle the address for a minute.</summary>
    [Range(1, int.MaxValue)]
    public int AddressFailuresPerMinute { get; set; } = 30;
}
