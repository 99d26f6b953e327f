using Postern.Protocol;
using Postern.Server.Api;
using Postern.Server.Storage;

namespace Postern.Server.Accounts;

/// <summary>
/// Django's SetPasswordMixin, shared by password change, reset confirm and sign-up: the two entries must match, then the
/// password validators judge the second against the user it is for. Every message goes on the confirmation field, as
/// Django puts them.
/// </summary>
public sealed class NewPasswordRules(PasswordValidation validation)
{
    public const string Mismatch = "The two password fields didn’t match.";

    public void Check(AccountCall call, string first, string second, User forUser)
    {
        var password = call.Value(first);
        var confirmation = call.Value(second);
        if (password is not null && confirmation is not null && password != confirmation)
        {
            call.Errors.Add(second, Mismatch);
            return;
        }
        if (confirmation is null)
            return;
        // Refused before anything hashes it: a megabyte hashed a million times is a denial of service (Django would hash it).
        if (confirmation.Length > DjangoPasswordHash.MaxPasswordLength)
        {
            call.Errors.Add(second, FormField.MaxLengthMessage(DjangoPasswordHash.MaxPasswordLength, confirmation.Length));
            return;
        }
        var problems = validation.Validate(
            confirmation, new PasswordUserAttributes(forUser.Username, forUser.Email, forUser.FirstName, forUser.LastName));
        if (problems.Count > 0)
            call.Errors.AddRange(second, problems);
    }
}
