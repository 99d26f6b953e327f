using System.Text.RegularExpressions;
using Postern.Protocol;
using Postern.Server.Sessions;
using Postern.Server.Storage;

namespace Postern.Server.Accounts;

/// <summary>A username or password that the account rules refuse.</summary>
public sealed class InvalidAccountInputException(string message) : Exception(message);

/// <summary>Account rules shared by the admin commands and the API: who may exist, and what a password change ends.</summary>
public sealed partial class AccountService(
    IUserStore users, IGroupStore groups, PasswordHasher hasher, PasswordValidation passwordValidation, SessionAuthHash authHash,
    AccountMailRequests mailRequests, TimeProvider time, Observability.PosternMetrics? metrics = null)
{
    /// <summary>Django's username field: at most 150 characters of letters, digits and @/./+/-/_.</summary>
    public const int MaxUsernameLength = 150;

    [GeneratedRegex(@"^[\w.@+-]+\z")]
    private static partial Regex UsernamePattern();

    /// <summary>Django's UnicodeUsernameValidator alone (length is checked apart).</summary>
    public static bool IsUsernamePattern(string username) => UsernamePattern().IsMatch(username);

    /// <summary>Django's UnicodeUsernameValidator message.</summary>
    public const string InvalidUsername = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";

    public static string? ValidateUsername(string username) =>
        username.Length == 0 ? "The username cannot be empty."
        : username.Length > MaxUsernameLength ? $"Ensure the username has no more than {MaxUsernameLength} characters."
        : !UsernamePattern().IsMatch(username) ? InvalidUsername
        : null;

    public static string? ValidatePassword(string password) =>
        password.Length == 0 ? "The password cannot be empty."
        : password.Length > DjangoPasswordHash.MaxPasswordLength
            ? $"Ensure the password has no more than {DjangoPasswordHash.MaxPasswordLength} characters."
        : null;

    /// <summary>Creates a user; a null password makes it unusable (the user cannot log in until one is set).</summary>
    /// <param name="bypassPasswordValidation">
    /// Skips the password validators (not the length limits): for passwords already validated, or that someone decided
    /// to use anyway (Django's "Bypass password validation and create user anyway?").
    /// </param>
    /// <exception cref="InvalidAccountInputException">The username, or the password's length, is refused.</exception>
    /// <exception cref="PasswordValidationException">The password validators refuse the password.</exception>
    public async Task<User> CreateUserAsync(string username, string? password, string email = "", bool isStaff = false,
        bool isSuperuser = false, IReadOnlyList<long>? groupIds = null, bool bypassPasswordValidation = false,
        CancellationToken ct = default)
    {
        Refuse(ValidateUsername(username));
        if (password is not null)
        {
            Refuse(ValidatePassword(password));
            if (!bypassPasswordValidation)
                passwordValidation.EnsureValid(password, new PasswordUserAttributes(username, email));
        }
        var encoded = password is null ? DjangoPasswordHash.NewUnusable() : await hasher.HashAsync(password, ct);
        // Users created here are created by an administrator, who vouches for the address.
        return await users.CreateUserAsync(
            new NewUser(username, email, encoded, isStaff, isSuperuser) { GroupIds = groupIds ?? [], EmailVerified = true }, ct);
    }

    /// <summary>
    /// Sets a new password. Every session of the user ends, except <paramref name="keepSessionKey"/> (the one that
    /// asked for the change).
    /// </summary>
    /// <param name="bypassPasswordValidation">
    /// Skips the password validators (not the length limits), as for <see cref="CreateUserAsync"/>.
    /// </param>
    /// <exception cref="InvalidAccountInputException">The password's length is refused.</exception>
    /// <exception cref="PasswordValidationException">The password validators refuse the password.</exception>
    public async Task ChangePasswordAsync(User user, string password, string? keepSessionKey = null, bool bypassPasswordValidation = false,
        CancellationToken ct = default)
    {
        Refuse(ValidatePassword(password));
        if (!bypassPasswordValidation)
            passwordValidation.EnsureValid(password, PasswordUserAttributes.Of(user));
        var encoded = await hasher.HashAsync(password, ct);
        var kept = keepSessionKey is null ? null : new KeptSession(keepSessionKey, authHash.For(encoded));
        var ended = await users.SetPasswordAsync(user.Id, encoded, kept, ct);
        metrics?.SessionsEnded(Observability.PosternMetrics.EndReasons.PasswordChanged, ended);
        mailRequests.PasswordChanged(user.Id);
    }

    /// <summary>What <see cref="AuthenticateAsync"/> returns for a right password that <c>admit</c> refused.</summary>
    public static readonly User NotAdmitted = new(0, "", "", "", false, false, false, default, null);

    /// <summary>
    /// What <see cref="AuthenticateAsync"/> returns for the right password of an inactive user: a refusal like a wrong
    /// password for the client, told apart only for the operator's metrics (<c>postern.logins</c>, outcome inactive).
    /// </summary>
    public static readonly User Inactive = new(0, "", "", "", false, false, false, default, null);

    /// <summary>
    /// Checks credentials as Django's ModelBackend does; null for a wrong password or unknown user, <see cref="Inactive"/>
    /// for an inactive user's right password (which the caller refuses just the same).
    /// </summary>
    /// <param name="admit">
    /// Asked once the password is right, before the login is recorded: false refuses the user as <see cref="NotAdmitted"/>
    /// (an address that must be verified first).
    /// </param>
    public async Task<User?> AuthenticateAsync(string username, string password, CancellationToken ct,
        Func<User, Task<bool>>? admit = null)
    {
        // No stored username is that long: such names are unknown users without a query.
        var user = username.Length <= MaxUsernameLength
            ? await users.FindUserByUsernameAsync(username, ct)
            : null;
        var check = await hasher.CheckAsync(user?.Password, password, ct);
        // The inactive user's password was still hashed above, so timing says nothing about activity either.
        if (user is null || !check.Matches)
            return null;
        if (!user.IsActive)
            return Inactive;
        if (admit is not null && !await admit(user))
            return NotAdmitted;
        PasswordUpgrade? upgrade = null;
        if (check.UpgradedHash is { } upgraded)
        {
            upgrade = new PasswordUpgrade(upgraded, authHash.For(user.Password), authHash.For(upgraded));
            user = user with { Password = upgraded };
        }
        var now = time.GetUtcNow();
        await users.RecordLoginAsync(user.Id, now, upgrade, ct);
        return user with { LastLogin = now };
    }

    public async Task<Storage.Group> EnsureGroupAsync(string name, CancellationToken ct = default) =>
        await groups.FindGroupByNameAsync(name, ct) ?? await groups.CreateGroupAsync(name, ct);

    /// <summary>
    /// Sets a password that a form has already judged (<see cref="NewPasswordRules"/>): every session of the user ends.
    /// Returns the user with the new hash, to sign the asking session in again under it.
    /// </summary>
    public async Task<User> ReplacePasswordAsync(User user, string password, CancellationToken ct)
    {
        var encoded = await hasher.HashAsync(password, ct);
        var ended = await users.SetPasswordAsync(user.Id, encoded, kept: null, ct);
        metrics?.SessionsEnded(Observability.PosternMetrics.EndReasons.PasswordChanged, ended);
        mailRequests.PasswordChanged(user.Id);
        return user with { Password = encoded };
    }

    /// <summary>
    /// A user who signed up: the form judged the name and password already; the address the user gave is not verified.
    /// </summary>
    /// <exception cref="DuplicateUsernameException">Taken since the form looked.</exception>
    public async Task<User> SignUpAsync(string username, string email, string password, CancellationToken ct)
    {
        var encoded = await hasher.HashAsync(password, ct);
        return await users.CreateUserAsync(new NewUser(username, email, encoded), ct);
    }

    private static void Refuse(string? problem)
    {
        if (problem is not null)
            throw new InvalidAccountInputException(problem);
    }
}
