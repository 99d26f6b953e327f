namespace Postern.Server.Sessions;

/// <summary>Signing and hashing secrets (<c>Postern</c>); the same on every instance.</summary>
public sealed class SecretOptions
{
    public const string Section = "Postern";

    /// <summary>
    /// Keys the session auth hash. When empty, one is generated once and kept in the database, so every instance
    /// sharing it agrees.
    /// </summary>
    public string? SecretKey { get; set; }

    /// <summary>
    /// Django's SECRET_KEY_FALLBACKS: older keys whose password reset tokens and signed values still verify after a
    /// rotation (nothing new is signed with them).
    /// </summary>
    public List<string> SecretKeyFallbacks { get; set; } = [];
}
