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

    /// <summary>
    /// Whether a hash of another count or algorithm is re-hashed at login (Django's <c>must_update</c>). Unset: yes in Postern's
    /// own schema, no beside Django, whose project keeps its hashing policy: two re-hashers with different counts would re-hash
    /// each other's work back and forth, each time ending the user's sessions on the other side.
    /// </summary>
    public bool? RehashAtLogin { get; set; }

    /// <summary>How many password hashes may run at once; the rest wait, so logins cannot starve other requests of CPU.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentHashes { get; set; } = Environment.ProcessorCount;

    /// <summary>The seed logs out with GET. False answers GET with 405, so a cross-site image cannot log users out.</summary>
    public bool LogoutAllowsGet { get; set; } = true;

    /// <summary><c>POST /auth/signup</c> opens sign-up; closed (403) by default, as a backend for an existing frontend starts.</summary>
    public bool SignupEnabled { get; set; }

    /// <summary>allauth's ACCOUNT_EMAIL_VERIFICATION: whether addresses users give themselves must be verified to log in.</summary>
    public EmailVerificationMode EmailVerification { get; set; } = EmailVerificationMode.Optional;

    /// <summary>Django's PASSWORD_RESET_TIMEOUT: how long a reset link works, three days.</summary>
    [Range(1, 365 * 24 * 3600)]
    public int PasswordResetTimeoutSeconds { get; set; } = 259_200;

    /// <summary>How long a verification link works: allauth's three days.</summary>
    [Range(1, 365 * 24 * 3600)]
    public int EmailVerificationTimeoutSeconds { get; set; } = 259_200;

    /// <summary>
    /// How recent an authentication must be for the sensitive actions (turning two-factor authentication off, new recovery
    /// codes, an API token): allauth's ACCOUNT_REAUTHENTICATION_TIMEOUT, five minutes. A login or
    /// <c>POST /auth/reauthenticate</c> opens the window.
    /// </summary>
    [Range(1, 24 * 3600)]
    public int ReauthSeconds { get; set; } = 300;
}

/// <summary>allauth's names for ACCOUNT_EMAIL_VERIFICATION.</summary>
public enum EmailVerificationMode
{
    /// <summary>No verification e-mail is sent; addresses are never required to be verified.</summary>
    None,

    /// <summary>A verification e-mail is sent; logging in does not wait for it.</summary>
    Optional,

    /// <summary>A verification e-mail is sent, and a correct login is refused until the address is verified.</summary>
    Mandatory,
}

/// <summary>The frontend's own pages that account e-mails link to (<c>Postern:Frontend</c>).</summary>
public sealed class FrontendOptions
{
    public const string Section = "Postern:Frontend";

    /// <summary>
    /// The link of a password reset e-mail, with <c>{uid}</c> and <c>{token}</c> filled in, e.g.
    /// <c>https://app.example.com/reset/{uid}/{token}</c>. Unset: Postern's own small page, which posts the confirm.
    /// </summary>
    public string? PasswordResetUrl { get; set; }

    /// <summary>The link of a verification e-mail, with <c>{key}</c> filled in. Unset: Postern's own page.</summary>
    public string? EmailVerifyUrl { get; set; }
}
