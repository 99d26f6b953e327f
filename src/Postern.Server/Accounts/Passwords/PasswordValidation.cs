namespace Postern.Server.Accounts;

/// <summary>A new password that the password validators refuse; <see cref="Messages"/> holds each validator's message.</summary>
public sealed class PasswordValidationException(IReadOnlyList<string> messages) : Exception(string.Join(" ", messages))
{
    public IReadOnlyList<string> Messages => messages;
}

/// <summary>
/// The configured password validators (<see cref="PasswordValidationOptions"/>), run as Django's
/// <c>validate_password</c> runs them: every validator, in order, each message collected.
/// </summary>
public sealed class PasswordValidation
{
    /// <summary>The validators <paramref name="options"/> name; validated options (as from DI) name only ones that exist.</summary>
    public static PasswordValidation From(PasswordValidationOptions options) =>
        new(options.Validators.Select(setting => setting.CreateValidator() switch
        {
            ({ } validator, _) => validator,
            (_, var problem) => throw new InvalidOperationException($"{setting.ConfigurationPath ?? setting.Name}: {problem}"),
        }));

    public PasswordValidation(IEnumerable<IPasswordValidator> validators)
    {
        Validators = [.. validators];
        HelpTexts = [.. Validators.Select(validator => validator.HelpText)];
    }

    public IReadOnlyList<IPasswordValidator> Validators { get; }

    /// <summary>What each validator asks of a password (Django's <c>password_validators_help_texts</c>), for forms.</summary>
    public IReadOnlyList<string> HelpTexts { get; }

    /// <summary>The messages of every validator that refuses <paramref name="password"/>; empty when it passes.</summary>
    /// <param name="user">The user it is for, as far as known (a new user's username and e-mail); null checks the password alone.</param>
    public IReadOnlyList<string> Validate(string password, PasswordUserAttributes? user) =>
        [.. Validators.Select(validator => validator.Validate(password, user)).OfType<string>()];

    /// <exception cref="PasswordValidationException">Some validator refuses <paramref name="password"/>.</exception>
    public void EnsureValid(string password, PasswordUserAttributes? user)
    {
        if (Validate(password, user) is { Count: > 0 } messages)
            throw new PasswordValidationException(messages);
    }
}
