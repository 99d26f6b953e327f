namespace Postern.Bench;

/// <summary>What one run measures, from the command line.</summary>
public sealed record BenchOptions
{
    public int DurationSeconds { get; init; } = 10;
    public int WarmUpSeconds { get; init; } = 2;
    public int SoakSeconds { get; init; } = 60;
    public int Sessions { get; init; } = 64;
    public int ReadConnections { get; init; } = 32;

    /// <summary>Logins at once in (d): more than the cores, so the hashing is the bottleneck, not the clients.</summary>
    public int LoginConnections { get; init; } = 8;

    /// <summary>The clients logging in as fast as they can in (f), as issue 6 says.</summary>
    public int FloodLoginConnections { get; init; } = 32;
    public bool Smoke { get; init; }

    /// <summary>--scale: the deployments (instances behind nginx on PostgreSQL and Redis) rather than single processes.</summary>
    public bool Scale { get; init; }
    public required IReadOnlySet<string> Scenarios { get; init; }
    public required IReadOnlySet<ServerKind> Servers { get; init; }
    public string? MarkdownFile { get; init; }
    public string? JsonFile { get; init; }
    public required string CommandLine { get; init; }

    /// <summary>
    /// A smoke run: every path exercised, the numbers meaningless. No warm-up, 1 s per load, and where
    /// each request is a password hash (about a second on a busy box) 3 s with one login per core at a
    /// time, so that some complete on every server even when the machine is shared.
    /// </summary>
    public static BenchOptions ForSmoke(BenchOptions options) => options with
    {
        DurationSeconds = 1,
        WarmUpSeconds = 0,
        SoakSeconds = Math.Min(options.SoakSeconds, 3),
        Sessions = Math.Min(options.Sessions, 4),
        LoginConnections = Environment.ProcessorCount,
        FloodLoginConnections = Environment.ProcessorCount,
        Smoke = true,
    };

    /// <summary>
    /// Where every request is a hash of half a second, a run counts only the logins that end inside it: those in flight at
    /// its end are lost work, about one hash per core. A longer run makes that a smaller share.
    /// </summary>
    public const int MinHashingSeconds = 30;

    /// <summary>
    /// The restart scenario runs at least this long: a quarter of it before the stop, and time after for the instance to
    /// exit, start (a .NET start on a busy machine takes seconds) and serve again.
    /// </summary>
    public const int MinRestartSeconds = 30;
    public const int MinSmokeRestartSeconds = 12;

    /// <summary>Rounds of the refused-login timing (each: three timed logins, two of them a password hash).</summary>
    public int LoginTimingRounds => Smoke ? 2 : 15;

    public int SecondsFor(Scenario scenario) => scenario.Key switch
    {
        Scenario.SoakKey => SoakSeconds,
        _ when Smoke && scenario.HashBound => 3,
        _ when scenario.HashBound => Math.Max(DurationSeconds, MinHashingSeconds),
        _ when scenario.RestartsAnInstance => Math.Max(DurationSeconds, Smoke ? MinSmokeRestartSeconds : MinRestartSeconds),
        _ => DurationSeconds,
    };

    /// <summary>
    /// The pause between a warm-up and the measured run, so work the warm-up left in flight does not run into it. A server
    /// does not stop a password hash when its client leaves, so after logins that is a few hashes.
    /// </summary>
    public TimeSpan SettleAfterWarmUp(Scenario scenario) => Smoke ? TimeSpan.Zero : TimeSpan.FromSeconds(scenario.HashBound ? 3 : 1);
}
