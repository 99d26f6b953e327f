namespace Postern.Server.Accounts;

/// <summary>Django's <c>NumericPasswordValidator</c>: not digits only (Python's <c>isdigit()</c>, so ² and ٣ are digits too).</summary>
public sealed class NumericPasswordValidator : IPasswordValidator
{
    public string? Validate(string password, PasswordUserAttributes? user) =>
        PythonText.IsDigits(password) ? "This password is entirely numeric." : null;

    public string HelpText => "Your password can’t be entirely numeric.";
}
