namespace Postern.Server.Accounts;

/// <summary>One of Django's password validators: at most one message for a password, and a help text saying what it wants.</summary>
public interface IPasswordValidator
{
    /// <summary>The validator's message when it refuses <paramref name="password"/>, else null.</summary>
    /// <param name="user">The user the password is for; null checks the password alone (Django's <c>user=None</c>).</param>
    string? Validate(string password, PasswordUserAttributes? user);

    string HelpText { get; }
}

/// <summary>
/// What Django's similarity validator compares a password with: the user's fields, as set or about to be set (a user
/// being created has no id yet). Empty fields are not compared.
/// </summary>
public sealed record PasswordUserAttributes(string Username, string Email = "", string FirstName = "", string LastName = "")
{
    public static PasswordUserAttributes Of(Storage.User user) => new(user.Username, user.Email);
}
