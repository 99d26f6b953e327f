namespace Postern.Server.Storage;

/// <summary>A user as Django's auth.User has it (the fields the protocol uses).</summary>
public sealed record User(
    long Id,
    string Username,
    string Email,
    string Password,
    bool IsActive,
    bool IsStaff,
    bool IsSuperuser,
    DateTimeOffset DateJoined,
    DateTimeOffset? LastLogin,
    string FirstName = "",
    string LastName = "");

/// <summary>What creating a user needs; the password is already encoded (or unusable).</summary>
public sealed record NewUser(
    string Username, string Email, string Password, bool IsStaff = false, bool IsSuperuser = false, bool IsActive = true)
{
    /// <summary>Groups to join, in the same transaction as the creation.</summary>
    public IReadOnlyList<long> GroupIds { get; init; } = [];

    public string FirstName { get; init; } = "";
    public string LastName { get; init; } = "";

    /// <summary>Whether the address counts as verified from the start: staff vouch for the addresses they set.</summary>
    public bool EmailVerified { get; init; }
}

/// <summary>A user with the ids of their groups, as the API shows them.</summary>
public sealed record UserWithGroups(User User, IReadOnlyList<long> GroupIds);

/// <summary>Profile changes; null leaves a field as it is.</summary>
public sealed record UserChanges(string? Username = null, string? Email = null, IReadOnlyList<long>? GroupIds = null)
{
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public bool? IsActive { get; init; }
    public bool? IsStaff { get; init; }
    public bool? IsSuperuser { get; init; }

    /// <summary>
    /// A new <see cref="Email"/> counts as verified (staff set it). Otherwise a changed address is unverified until the
    /// user follows the link sent to it; an unchanged one keeps its state.
    /// </summary>
    public bool EmailVerified { get; init; }
}

public sealed record Group(long Id, string Name);

/// <summary>
/// A signed-in session, kept server-side so it can be listed and revoked. <see cref="AuthHash"/> ties
/// it to the password it was opened with (Django's session auth hash).
/// </summary>
public sealed record SessionRecord(
    string Key,
    long UserId,
    string AuthHash,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastSeenAt,
    DateTimeOffset ExpiresAt,
    string? UserAgent);

/// <summary>A session together with the user it belongs to, read in one query.</summary>
public sealed record SessionWithUser(SessionRecord Session, User User);

/// <summary>The storage could not be reached or failed for reasons of its own; the request may be retried.</summary>
public sealed class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>A username that another user already has.</summary>
public sealed class DuplicateUsernameException(string username)
    : Exception($"A user with the username '{username}' already exists.");

/// <summary>A value that a unique column of <see cref="Table"/> already has in another row.</summary>
/// <param name="column">The column as the database names it (PostgreSQL: the constraint, if not named the default way).</param>
public sealed class DuplicateValueException(string table, string column, Exception inner)
    : Exception($"A row of {table} with this {column} already exists.", inner)
{
    public string Table => table;
    public string Column => column;
}

/// <summary>
/// Beside Django, a user that rows of the Django project's other apps still refer to (an order, a comment): Django's admin
/// would delete or keep them by each model's <c>on_delete</c>, which Postern cannot know. Nothing was deleted.
/// </summary>
public sealed class UserStillReferencedException(Exception inner)
    : Exception("Rows in other tables of the Django project still refer to this user; delete the user in Django's admin.", inner);

/// <summary>A group name that another group already has.</summary>
public sealed class DuplicateGroupNameException(string name)
    : Exception($"A group with the name '{name}' already exists.");

/// <summary>
/// A user or group that a write refers to does not exist (a foreign key): deleted after the caller checked it.
/// Nothing was written; which row it was follows from the write (a group to join, the user of a new session).
/// </summary>
public sealed class MissingReferenceException(Exception inner)
    : Exception("A user or group this write refers to does not exist.", inner);

/// <summary>
/// An API token: a name its user gave it, the SHA-256 of its key (the key itself is shown once, at creation, and never
/// stored), the key's first characters to recognise it by, and <see cref="AuthHash"/>, which ties it to the password it was
/// made under as a session's does.
/// </summary>
public sealed record ApiTokenRecord(
    long Id,
    long UserId,
    string Name,
    string KeyHash,
    string Prefix,
    string AuthHash,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt);

/// <summary>A token together with the user it belongs to, read in one query.</summary>
public sealed record ApiTokenWithUser(ApiTokenRecord Token, User User);
