using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Postern.Server.Observability;

/// <summary>
/// Postern's own instruments, on the meter <see cref="MeterName"/>: what an operator of an authentication service watches
/// (logins by outcome, sessions opened and ended, CSRF refusals, the read cache, password hashing, the database, Redis,
/// e-mail). Names follow OpenTelemetry's conventions; Prometheus sees <c>postern.logins</c> as <c>postern_logins_total</c>
/// and a duration in seconds as <c>..._seconds</c> (docs/configuration.md#metrics lists them all). Every tag takes a value
/// from a short fixed list, never a username, address or path, so series stay few and nothing secret is exported.
/// </summary>
/// <remarks>
/// An instrument nobody listens to (metrics off: <c>Postern:Metrics:Urls</c> unset) costs a branch per call; durations are
/// only measured while someone listens. Tags are one <see cref="KeyValuePair{TKey, TValue}"/> on the stack, no allocation.
/// </remarks>
public sealed class PosternMetrics
{
    public const string MeterName = "Postern";

    private readonly Counter<long> _logins;
    private readonly Counter<long> _logouts;
    private readonly Counter<long> _sessionsOpened;
    private readonly Counter<long> _sessionsEnded;
    private readonly Counter<long> _csrfFailures;
    private readonly Counter<long> _cacheHits;
    private readonly Counter<long> _cacheMisses;
    private readonly Counter<long> _hashes;
    private readonly Histogram<double> _hashWait;
    private readonly Histogram<double> _hashDuration;
    private readonly Histogram<double> _databaseDuration;
    private readonly Counter<long> _databaseErrors;
    private readonly Histogram<double> _redisDuration;
    private readonly Counter<long> _redisErrors;
    private readonly Counter<long> _emailsSent;
    private readonly Counter<long> _emailsFailed;

    /// <summary>Buckets for storage round trips (seconds): from half a millisecond to seconds.</summary>
    private static readonly InstrumentAdvice<double> StorageBuckets = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    };

    /// <summary>Buckets for password hashes and their wait (seconds): a hash costs tens to hundreds of milliseconds.</summary>
    private static readonly InstrumentAdvice<double> HashBuckets = new()
    {
        HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    /// <summary>This server's meter: one per service provider (IMeterFactory), so tests can listen to one server alone.</summary>
    internal Meter Meter { get; }

    public PosternMetrics(IMeterFactory meters)
    {
        var meter = Meter = meters.Create(MeterName);
        _logins = meter.CreateCounter<long>("postern.logins", "{login}",
            "Login attempts by outcome: succeeded, invalid_credentials, inactive, throttled, email_not_verified, mfa_required, "
            + "mfa_passed, mfa_failed.");
        _logouts = meter.CreateCounter<long>("postern.logouts", "{logout}", "Logouts that ended a session.");
        _sessionsOpened = meter.CreateCounter<long>("postern.sessions.opened", "{session}", "Sessions opened by a login.");
        _sessionsEnded = meter.CreateCounter<long>("postern.sessions.ended", "{session}",
            "Sessions ended, by reason: logout, revoked, expired, password_changed, trimmed, deactivated.");
        _csrfFailures = meter.CreateCounter<long>("postern.csrf.failures", "{request}", "Requests refused by the CSRF check, by reason.");
        _cacheHits = meter.CreateCounter<long>("postern.read_cache.hits", "{read}", "Reads answered from the read cache, by query.");
        _cacheMisses = meter.CreateCounter<long>("postern.read_cache.misses", "{read}",
            "Cacheable reads that went to the database, by query.");
        _hashes = meter.CreateCounter<long>("postern.password_hashes", "{hash}", "Password hashes queued for the hashing threads.");
        _hashWait = meter.CreateHistogram<double>("postern.password_hash.wait", "s",
            "How long a password hash waited in line for a hashing thread.", advice: HashBuckets);
        _hashDuration = meter.CreateHistogram<double>("postern.password_hash.duration", "s", "How long a password hash took, once running.", advice: HashBuckets);
        _databaseDuration = meter.CreateHistogram<double>("postern.db.operation.duration", "s",
            "Database operations (one connection's work: a read, or a write with its transaction), by operation: read, write.",
            advice: StorageBuckets);
        _databaseErrors = meter.CreateCounter<long>("postern.db.errors", "{error}", "Database operations that failed: the database did not answer.");
        _redisDuration = meter.CreateHistogram<double>("postern.redis.operation.duration", "s",
            "Redis commands, by operation: change_token (read on requests), announce (a write's), throttle, ping.",
            advice: StorageBuckets);
        _redisErrors = meter.CreateCounter<long>("postern.redis.errors", "{error}", "Redis commands that failed: Redis did not answer.");
        _emailsSent = meter.CreateCounter<long>("postern.emails.sent", "{email}", "E-mails the SMTP server (or the log) accepted.");
        _emailsFailed = meter.CreateCounter<long>("postern.emails.failed", "{email}",
            "E-mail attempts that failed, by result: retry (tried again later), given_up.");
    }

    // ---- logins and sessions

    public void Login(string outcome) => _logins.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Logout() => _logouts.Add(1);

    public void SessionOpened() => _sessionsOpened.Add(1);

    public void SessionsEnded(string reason, long count = 1)
    {
        if (count > 0)
            _sessionsEnded.Add(count, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>A CSRF refusal, by the short name of Django's reason (<c>CsrfFailureReasons.MetricName</c>).</summary>
    public void CsrfFailure(string reasonName) =>
        _csrfFailures.Add(1, new KeyValuePair<string, object?>("reason", reasonName));

    // ---- storage

    public void CacheHit(string query) => _cacheHits.Add(1, new KeyValuePair<string, object?>("query", query));

    public void CacheMiss(string query) => _cacheMisses.Add(1, new KeyValuePair<string, object?>("query", query));

    /// <summary>A timestamp for <see cref="DatabaseOperation"/>, or 0 when nobody listens (then nothing is measured).</summary>
    public long DatabaseStart() => _databaseDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    public void DatabaseOperation(string operation, long start)
    {
        if (start != 0)
            _databaseDuration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, new KeyValuePair<string, object?>("operation", operation));
    }

    public void DatabaseError(string operation) => _databaseErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public long RedisStart() => _redisDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    public void RedisOperation(string operation, long start)
    {
        if (start != 0)
            _redisDuration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, new KeyValuePair<string, object?>("operation", operation));
    }

    public void RedisError(string operation) => _redisErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    // ---- password hashing

    public void HashQueued() => _hashes.Add(1);

    public long HashStart() => _hashWait.Enabled || _hashDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    public void HashWaited(long queuedAt)
    {
        if (queuedAt != 0)
            _hashWait.Record(Stopwatch.GetElapsedTime(queuedAt).TotalSeconds);
    }

    public void HashDone(long startedAt)
    {
        if (startedAt != 0)
            _hashDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds);
    }

    // ---- e-mail

    public void EmailSent() => _emailsSent.Add(1);

    public void EmailFailed(bool givenUp) =>
        _emailsFailed.Add(1, new KeyValuePair<string, object?>("result", givenUp ? "given_up" : "retry"));

    /// <summary>Login outcomes, the values of <c>postern.logins</c>' <c>outcome</c> tag.</summary>
    public static class Outcomes
    {
        public const string Succeeded = "succeeded";
        public const string InvalidCredentials = "invalid_credentials";
        public const string Inactive = "inactive";
        public const string Throttled = "throttled";
        public const string EmailNotVerified = "email_not_verified";
        public const string MfaRequired = "mfa_required";
        public const string MfaPassed = "mfa_passed";
        public const string MfaFailed = "mfa_failed";
    }

    /// <summary>Why sessions ended, the values of <c>postern.sessions.ended</c>' <c>reason</c> tag.</summary>
    public static class EndReasons
    {
        public const string Logout = "logout";
        public const string Revoked = "revoked";
        public const string Expired = "expired";
        public const string PasswordChanged = "password_changed";
        public const string Trimmed = "trimmed";
        public const string Deactivated = "deactivated";
    }
}
