using System.Globalization;
using Microsoft.Extensions.Options;

namespace Postern.Server.Accounts;

/// <summary>
/// The password validators, in order, with their options (<c>Postern:Accounts:PasswordValidators</c>, Django's
/// <c>AUTH_PASSWORD_VALIDATORS</c>): a list of <c>{"Name": "MinimumLength", "Options": {"MinLength": 12}}</c>.
/// Absent, Django's default four; an empty list (<c>[]</c> in JSON, an empty environment variable) turns validation off.
/// </summary>
public sealed class PasswordValidationOptions
{
    public const string Section = AccountOptions.Section + ":PasswordValidators";

    /// <summary>Django's default <c>AUTH_PASSWORD_VALIDATORS</c> (as its project template writes them), in Django's order.</summary>
    public static readonly IReadOnlyList<PasswordValidatorSetting> DjangoDefaults =
    [
        new(PasswordValidatorSetting.UserAttributeSimilarity),
        new(PasswordValidatorSetting.MinimumLength),
        new(PasswordValidatorSetting.CommonPassword),
        new(PasswordValidatorSetting.NumericPassword),
    ];

    public List<PasswordValidatorSetting> Validators { get; } = [.. DjangoDefaults];

    /// <summary>What could not be read from the configuration, reported when the options are validated (at start).</summary>
    internal List<string> ConfigurationProblems { get; } = [];
}

/// <summary>One validator by name, and its options by name (case-insensitive; a list option is comma-separated).</summary>
public sealed record PasswordValidatorSetting(string Name, IReadOnlyDictionary<string, string>? Options = null)
{
    /// <summary>Where the setting was read, for messages: <c>Postern:Accounts:PasswordValidators:1</c>.</summary>
    public string? ConfigurationPath { get; init; }

    public const string UserAttributeSimilarity = "UserAttributeSimilarity";
    public const string MinimumLength = "MinimumLength";
    public const string CommonPassword = "CommonPassword";
    public const string NumericPassword = "NumericPassword";

    /// <summary>The validators and the options each takes (Django's keyword arguments, in this configuration's case).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Known = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        [UserAttributeSimilarity] = ["UserAttributes", "MaxSimilarity"],
        [MinimumLength] = ["MinLength"],
        [CommonPassword] = ["PasswordListPath"],
        [NumericPassword] = [],
    };

    /// <summary>The validator this setting describes, or why there is none.</summary>
    public (IPasswordValidator? Validator, string? Problem) CreateValidator()
    {
        if (!Known.TryGetValue(Name, out var optionNames))
            return (null, $"unknown password validator '{Name}'; the validators are {string.Join(", ", Known.Keys)}.");
        var options = new Dictionary<string, string>(Options ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        if (options.Keys.FirstOrDefault(key => !optionNames.Contains(key, StringComparer.OrdinalIgnoreCase)) is { } unknown)
        {
            return (null, optionNames.Length == 0
                ? $"{Name} takes no options, not '{unknown}'."
                : $"{Name} takes no option '{unknown}'; its options are {string.Join(", ", optionNames)}.");
        }
        string? Option(string name) => options.GetValueOrDefault(name);
        switch (Known.Keys.First(name => name.Equals(Name, StringComparison.OrdinalIgnoreCase)))
        {
            case UserAttributeSimilarity:
                var attributes = Option("UserAttributes")
                    ?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                if (attributes?.FirstOrDefault(a => !UserAttributeSimilarityValidator.VerboseNames.ContainsKey(a)) is { } attribute)
                {
                    return (null, $"{Name}: UserAttributes has '{attribute}'; the attributes are "
                        + $"{string.Join(", ", UserAttributeSimilarityValidator.VerboseNames.Keys)}.");
                }
                var maxSimilarity = UserAttributeSimilarityValidator.DefaultMaxSimilarity;
                if (Option("MaxSimilarity") is { } similarity
                    && (!double.TryParse(similarity, NumberStyles.Float, CultureInfo.InvariantCulture, out maxSimilarity)
                        || !(maxSimilarity >= UserAttributeSimilarityValidator.LeastMaxSimilarity)))
                {
                    var least = UserAttributeSimilarityValidator.LeastMaxSimilarity.ToString(CultureInfo.InvariantCulture);
                    return (null, $"{Name}: MaxSimilarity must be a number of at least {least}, not '{similarity}'.");
                }
                return (new UserAttributeSimilarityValidator(attributes, maxSimilarity), null);
            case MinimumLength:
                var minLength = MinimumLengthValidator.DefaultMinLength;
                if (Option("MinLength") is { } length
                    && (!int.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out minLength)))
                {
                    return (null, $"{Name}: MinLength must be a whole number of 0 or more, not '{length}'.");
                }
                return (new MinimumLengthValidator(minLength), null);
            case CommonPassword:
                var path = Option("PasswordListPath");
                if (path is not null && !File.Exists(path))
                    return (null, $"{Name}: PasswordListPath '{path}' is not a file.");
                return (new CommonPasswordValidator(path), null);
            case NumericPassword:
                return (new NumericPasswordValidator(), null);
            default:
                throw new InvalidOperationException($"{Name} is known but not made.");
        }
    }
}

/// <summary>
/// Reads <see cref="PasswordValidationOptions"/> from the configuration by hand, as the binder cannot: it would add a
/// configured list to the defaults rather than replace them, and could not tell an empty list from none.
/// Validated at start: an unknown validator or option is refused with its path and what is allowed.
/// </summary>
public sealed class PasswordValidationSetup(IConfiguration configuration)
    : IConfigureOptions<PasswordValidationOptions>, IValidateOptions<PasswordValidationOptions>
{
    public void Configure(PasswordValidationOptions options)
    {
        var section = configuration.GetSection(PasswordValidationOptions.Section);
        if (!section.Exists())
            return;
        options.Validators.Clear();
        var entries = section.GetChildren().ToList();
        if (entries.Count == 0 && !string.IsNullOrEmpty(section.Value))
            options.ConfigurationProblems.Add($"{section.Path} is '{section.Value}': it must be a list of validators, or empty.");
        foreach (var entry in entries)
        {
            if (entry["Name"] is not { Length: > 0 } name)
            {
                options.ConfigurationProblems.Add($"{entry.Path} has no Name.");
                continue;
            }
            if (entry.GetChildren().FirstOrDefault(key => !IsEntryKey(key.Key)) is { } stray)
                options.ConfigurationProblems.Add($"{entry.Path} has '{stray.Key}': a validator has a Name and Options.");
            var settings = entry.GetSection("Options").GetChildren().ToDictionary(
                option => option.Key,
                option => option.Value ?? string.Join(',', option.GetChildren().Select(item => item.Value)),
                StringComparer.OrdinalIgnoreCase);
            options.Validators.Add(new PasswordValidatorSetting(name, settings) { ConfigurationPath = entry.Path });
        }
    }

    private static bool IsEntryKey(string key) =>
        key.Equals("Name", StringComparison.OrdinalIgnoreCase) || key.Equals("Options", StringComparison.OrdinalIgnoreCase);

    public ValidateOptionsResult Validate(string? name, PasswordValidationOptions options)
    {
        var problems = options.ConfigurationProblems.Concat(options.Validators
                .Select(setting =>
                    (setting.CreateValidator().Problem, Path: setting.ConfigurationPath ?? PasswordValidationOptions.Section))
                .Where(result => result.Problem is not null)
                .Select(result => $"{result.Path}: {result.Problem}"))
            .ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
