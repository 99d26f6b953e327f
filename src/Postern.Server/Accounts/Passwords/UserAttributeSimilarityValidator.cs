namespace Postern.Server.Accounts;

/// <summary>
/// Django 5.2's <c>UserAttributeSimilarityValidator</c>: the password, lowercased, must not be too like any of the user's
/// attributes, nor any part of one between non-word characters (so neither <c>jsmith</c> nor <c>example</c> for
/// <c>jsmith@example.com</c>). Like is <c>difflib</c>'s <c>quick_ratio()</c> at <see cref="MaxSimilarity"/> or more,
/// skipped for a part so much shorter than the password that it could not reach that.
/// </summary>
public sealed class UserAttributeSimilarityValidator : IPasswordValidator
{
    public const double DefaultMaxSimilarity = 0.7;

    /// <summary>Django's <c>max_similarity</c> floor: below it nearly every password would be refused.</summary>
    public const double LeastMaxSimilarity = 0.1;

    /// <summary>The attributes Django compares by default, by their Django field names, with their verbose names.</summary>
    public static readonly IReadOnlyDictionary<string, string> VerboseNames = new Dictionary<string, string>
    {
        ["username"] = "username",
        ["first_name"] = "first name",
        ["last_name"] = "last name",
        ["email"] = "email address",
    };

    private readonly IReadOnlyList<string> _attributes;

    /// <param name="attributes">Django field names from <see cref="VerboseNames"/>, compared in this order.</param>
    public UserAttributeSimilarityValidator(IReadOnlyList<string>? attributes = null, double maxSimilarity = DefaultMaxSimilarity)
    {
        _attributes = attributes ?? [.. VerboseNames.Keys];
        if (_attributes.FirstOrDefault(name => !VerboseNames.ContainsKey(name)) is { } unknown)
        {
            throw new ArgumentException($"'{unknown}' is not a user attribute: use {string.Join(", ", VerboseNames.Keys)}.",
                nameof(attributes));
        }
        if (!(maxSimilarity >= LeastMaxSimilarity))
            throw new ArgumentOutOfRangeException(nameof(maxSimilarity), maxSimilarity, "max_similarity must be at least 0.1");
        MaxSimilarity = maxSimilarity;
    }

    public double MaxSimilarity { get; }

    public string? Validate(string password, PasswordUserAttributes? user)
    {
        if (user is null)
            return null;
        var lowered = PythonText.Lower(PythonText.CodePoints(password));
        foreach (var attribute in _attributes)
        {
            var value = ValueOf(user, attribute);
            if (value.Length == 0)
                continue;
            var valueLowered = PythonText.Lower(PythonText.CodePoints(value));
            foreach (var part in PythonText.SplitOnNonWord(valueLowered).Append(valueLowered))
            {
                if (ExceedsMaximumLengthRatio(lowered.Length, part.Length))
                    continue;
                if (SequenceMatcher.QuickRatio(lowered, part) >= MaxSimilarity)
                    return $"The password is too similar to the {VerboseNames[attribute]}.";
            }
        }
        return null;
    }

    public string HelpText => "Your password can’t be too similar to your other personal information.";

    /// <summary>
    /// Django's shortcut: a part a tenth of the password's length or less cannot reach the ratio (quick_ratio is then at
    /// most about 2 / the length ratio), so it is not compared. Written in Django's order of operations, as the
    /// floating-point comparison at the boundary depends on it.
    /// </summary>
    private bool ExceedsMaximumLengthRatio(int passwordLength, int valueLength)
    {
        var lengthBoundSimilarity = MaxSimilarity / 2 * passwordLength;
        return passwordLength >= 10 * valueLength && valueLength < lengthBoundSimilarity;
    }

    private static string ValueOf(PasswordUserAttributes user, string attribute) => attribute switch
    {
        "username" => user.Username,
        "first_name" => user.FirstName,
        "last_name" => user.LastName,
        "email" => user.Email,
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, null),
    };
}
