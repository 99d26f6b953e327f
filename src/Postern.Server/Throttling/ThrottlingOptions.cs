using System.ComponentModel.DataAnnotations;

namespace Postern.Server.Throttling;

/// <summary>
/// Failed logins, counted per account tried and per client address (<c>Postern:Throttling</c>). The defaults follow
/// ASP.NET Core Identity's lockout (5 failures) and OWASP's advice: a lock that starts short and grows, never permanent.
/// </summary>
public sealed class ThrottlingOptions
{
    public const string Section = "Postern:Throttling";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// With Redis configured (<c>Postern:Redis</c>), keep the counters there rather than in the database: a failure is then
    /// a script in Redis, not a write to the database. While Redis does not answer, logins and the rated actions are then
    /// refused with a 503: a throttle that cannot count must not let guesses through, and counts split between two stores
    /// would not throttle as one. False keeps them in the database, where logins go on while Redis is away.
    /// </summary>
    public bool CountInRedis { get; set; } = true;

    /// <summary>Failures for one account, within the window, that lock it.</summary>
    [Range(1, int.MaxValue)]
    public int AccountFailures { get; set; } = 5;

    /// <summary>An account's count starts again once it has been quiet (no failure, no lock) this long.</summary>
    [Range(1, int.MaxValue)]
    public int AccountWindowSeconds { get; set; } = 900;

    /// <summary>The first lock; each further failure doubles it.</summary>
    [Range(1, int.MaxValue)]
    public int AccountLockSeconds { get; set; } = 60;

    [Range(1, int.MaxValue)]
    public int AccountMaxLockSeconds { get; set; } = 3600;

    /// <summary>More failures than this from one address within a minute throttle the address for a minute.</summary>
    [Range(1, int.MaxValue)]
    public int AddressFailuresPerMinute { get; set; } = 30;

    /// <summary>
    /// Rates of the account actions by name (<see cref="RateNames"/>), DRF's format: <c>5/m</c>, <c>100/h</c>, or
    /// allauth's <c>1/3m</c>. A name set here replaces its default; the others keep theirs.
    /// </summary>
    public Dictionary<string, string> Rates { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// DRF's <c>anon</c> rate (AnonRateThrottle) for the API as a whole: requests under <c>/api/</c> without a user, counted
    /// per client address. Null or empty: off, as DRF throttles nothing unless told to.
    /// </summary>
    public string? ApiAnonRate { get; set; }

    /// <summary>
    /// DRF's <c>user</c> rate (UserRateThrottle): requests under <c>/api/</c> counted per user (a session's or a token's),
    /// and anonymous ones per client address, as DRF counts them. Null or empty: off.
    /// </summary>
    public string? ApiUserRate { get; set; }

    /// <summary>The <c>anon</c> rate in force: null when not set or when throttling is off.</summary>
    public Rate? ApiAnonLimit => InForce(ApiAnonRate);

    /// <summary>The <c>user</c> rate in force: null when not set or when throttling is off.</summary>
    public Rate? ApiUserLimit => InForce(ApiUserRate);

    private Rate? InForce(string? text) =>
        Enabled && !string.IsNullOrEmpty(text) && Throttling.Rate.TryParse(text, out var rate) ? rate : null;

    public Rate Rate(string name) =>
        Throttling.Rate.TryParse(Rates.TryGetValue(name, out var configured) ? configured : RateNames.Defaults[name], out var rate)
            ? rate
            : throw new InvalidOperationException($"The rate {name} was not checked at start.");

    /// <summary>What is wrong with the rates, if anything: an unknown name, or a value DRF would not read.</summary>
    public IEnumerable<string> RateProblems() =>
        Rates.Select(pair => !RateNames.Defaults.ContainsKey(pair.Key)
                ? $"{Section}:Rates:{pair.Key}: no such rate; the rates are {string.Join(", ", RateNames.Defaults.Keys)}."
                : !Throttling.Rate.TryParse(pair.Value, out _)
                    ? $"{Section}:Rates:{pair.Key}: '{pair.Value}' is not a rate such as 5/m, 100/h or 1/3m."
                    : null)
            .Concat(new[] { (Name: nameof(ApiAnonRate), Value: ApiAnonRate), (Name: nameof(ApiUserRate), Value: ApiUserRate) }
                .Select(api => string.IsNullOrEmpty(api.Value) || Throttling.Rate.TryParse(api.Value, out _)
                    ? null
                    : $"{Section}:{api.Name}: '{api.Value}' is not a rate such as 100/day, 60/min or 10/s (empty: off)."))
            .OfType<string>();

    /// <summary>The longest period of any rate: counts older than it and the account window may be deleted.</summary>
    public TimeSpan LongestRatePeriod()
    {
        Rate?[] api = [ApiAnonLimit, ApiUserLimit];
        return RateNames.Defaults.Keys.Select(name => Rate(name).Per)
            .Concat(api.OfType<Rate>().Select(rate => rate.Per))
            .Max();
    }
}

/// <summary>Stops the server at start on a mistyped rate, naming it.</summary>
public sealed class ThrottlingOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<ThrottlingOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, ThrottlingOptions options) =>
        options.RateProblems().ToList() is { Count: > 0 } problems
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail(problems)
            : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}
