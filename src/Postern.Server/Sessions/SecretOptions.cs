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
}
