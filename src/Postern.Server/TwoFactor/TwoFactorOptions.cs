using System.ComponentModel.DataAnnotations;

namespace Postern.Server.TwoFactor;

/// <summary>Two-factor authentication (<c>Postern:TwoFactor</c>).</summary>
public sealed class TwoFactorOptions
{
    public const string Section = "Postern:TwoFactor";

    /// <summary>How long a login whose password was right waits for its second factor: five minutes.</summary>
    [Range(10, 3600)]
    public int LoginTimeoutSeconds { get; set; } = 300;

    /// <summary>The issuer authenticator apps show beside the account's name.</summary>
    [Required]
    [MinLength(1)]
    public string TotpIssuer { get; set; } = "Postern";
}
