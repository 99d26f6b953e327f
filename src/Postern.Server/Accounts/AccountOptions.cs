using System.ComponentModel.DataAnnotations;
using Postern.Protocol;

namespace Postern.Server.Accounts;

/// <summary>Logins, passwords and logout (<c>Postern:Accounts</c>).</summary>
public sealed class AccountOptions
{
    public const string Section = "Postern:Accounts";

    /// <summary>
    /// PBKDF2 iterations of new hashes; Django 5.2's 1,000,000 by default. Hashes with other counts are upgraded at
    /// login.
    /// </summary>
    [Range(1, 100_000_000)]
    public int PasswordIterations { get; set; } = DjangoPasswordHash.Django52Iterations;

    /// <summary>How many password hashes may run at once; the rest wait, so logins cannot starve other requests of CPU.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentHashes { get; set; } = Environment.ProcessorCount;

    /// <summary>The seed logs out with GET. False answers GET with 405, so a cross-site image cannot log users out.</summary>
    public bool LogoutAllowsGet { get; set; } = true;
}
