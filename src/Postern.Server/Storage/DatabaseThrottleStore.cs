using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>
/// The throttle's counters in the <c>login_throttles</c> table: shared by every instance through the database, each change
/// one atomic statement. Never cached and never announced: nothing cached depends on them, and logins go on while Redis
/// is away.
/// </summary>
public sealed class DatabaseThrottleStore(Database database) : IThrottleStore
{
    public Task<(DateTimeOffset? LockedUntil, bool AccountCounted)> ReadAsync(string accountKey, string? addressKey, DateTimeOffset now,
        CancellationToken ct) =>
        database.ReadAsync(async db =>
        {
            var rows = await db.Command("SELECT throttle_key, locked_until FROM login_throttles WHERE throttle_key IN (@account, @address);")
                .With("@account", accountKey).With("@address", addressKey ?? accountKey)
                .ReadAllAsync(row => (Key: row.GetString(0), LockedUntil: row.GetInt64(1)));
            var until = rows.Select(r => r.LockedUntil).DefaultIfEmpty(0).Max();
            return (until > Micros(now) ? FromMicros(until) : (DateTimeOffset?)null, rows.Any(r => r.Key == accountKey));
        }, ct);

    public Task<long> CountAsync(string key, DateTimeOffset now, TimeSpan window, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(db => db.Command(
                """
                INSERT INTO login_throttles (throttle_key, failures, quiet_since, locked_until) VALUES (@key, 1, @now, 0)
                ON CONFLICT (throttle_key) DO UPDATE SET
                    failures = CASE WHEN login_throttles.quiet_since <= @windowStart THEN 1 ELSE login_throttles.failures + 1 END,
                    quiet_since = CASE WHEN login_throttles.quiet_since > @now THEN login_throttles.quiet_since ELSE @now END
                RETURNING failures;
                """)
            .With("@key", key).With("@now", Micros(now)).With("@windowStart", Micros(now - window)).ReadInt64Async(), ct);

    public Task LockAsync(string key, DateTimeOffset until, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(db => db.Command(
                """
                UPDATE login_throttles SET locked_until = @until,
                    quiet_since = CASE WHEN quiet_since > @until THEN quiet_since ELSE @until END
                WHERE throttle_key = @key AND locked_until < @until;
                """)
            .With("@key", key).With("@until", Micros(until)).ExecuteAsync(), ct);

    public Task ClearAsync(string key, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(db =>
            db.Command("DELETE FROM login_throttles WHERE throttle_key = @key;").With("@key", key).ExecuteAsync(), ct);

    /// <summary>Forgets the keys quiet since before <paramref name="before"/>: their next failure would start at 1 anyway.</summary>
    public Task<int> DeleteQuietAsync(DateTimeOffset before, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(db =>
            db.Command("DELETE FROM login_throttles WHERE quiet_since < @before;").With("@before", Micros(before)).ExecuteAsync(), ct);
}
