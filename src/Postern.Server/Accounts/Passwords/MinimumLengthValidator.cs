namespace Postern.Server.Accounts;

/// <summary>Django's <c>MinimumLengthValidator</c>: at least <see cref="MinLength"/> characters, counted as Python counts them.</summary>
public sealed class MinimumLengthValidator(int minLength = MinimumLengthValidator.DefaultMinLength) : IPasswordValidator
{
    public const int DefaultMinLength = 8;

    public int MinLength => minLength;

    public string? Validate(string password, PasswordUserAttributes? user) =>
        PythonText.Length(password) < minLength
            ? $"This password is too short. It must contain at least {minLength} {Characters}."
            : null;

    public string HelpText => $"Your password must contain at least {minLength} {Characters}.";

    /// <summary>Django's <c>ngettext</c> in English: the singular for exactly one.</summary>
    private string Characters => minLength == 1 ? "character" : "characters";
}
