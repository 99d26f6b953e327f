using System.Data.Common;
using Postern.Server.Storage.Postgres;

namespace Postern.Server.Storage.Caching;

/// <summary>
/// The change token of instances that share a PostgreSQL database and no Redis: a counter in the database itself
/// (<c>change_counter</c>), which every announced write moves before it and again after its commit, and every cached
/// read checks, the way <see cref="RedisChangeCounter"/> does in Redis. The same argument makes it exact: a write is
/// announced before its response is sent, so a request that starts after it (on any instance) reads a new token and
/// misses; a read that raced the write may have cached old rows under the first announcement's token, which the second
/// announcement leaves behind. It costs one primary-key read per request instead of the queries it saves.
/// Its gaps are Redis's: a write by a process that does not announce (a hand-written UPDATE in psql) is seen only once
/// something else announces or the entry ages out (<c>Postern:Cache:MaxAgeSeconds</c>). While the database does not
/// answer, neither does the counter, and the request is a 503 as it would be without the cache.
/// </summary>
internal sealed class PostgresChangeCounter(PostgresDialect dialect) : IStoreChangeSignal
{
    /// <summary>
    /// The counter and when the server started: a restored backup or a failover to a replica that lags can hand back a
    /// counter seen before, but it comes with another start time, so no token read after it equals one read before.
    /// </summary>
    private const string Read =
        "SELECT counter, CAST(EXTRACT(EPOCH FROM pg_postmaster_start_time()) * 1000000 AS bigint) FROM change_counter WHERE id = 1;";

    private const string Move = "UPDATE change_counter SET counter = counter + 1 WHERE id = 1;";

    public async ValueTask<ChangeToken?> CurrentAsync(CancellationToken ct)
    {
        try
        {
            await using var db = await dialect.OpenAsync(ct);
            return await db.Command(Read).ReadFirstOrDefaultAsync(static row => new Token(row.GetInt64(1), row.GetInt64(0)), ct) is { } token
                ? new ChangeToken(token.Started, token.Counter)
                : null;
        }
        catch (Exception e) when (dialect.AsUnavailable(e) is { } outage)
        {
            // The database that holds the counter holds the data too: the request fails now (a 503), rather than wait for
            // the read's own timeout after this one's.
            throw outage;
        }
        catch (DbException)
        {
            // Unknown (a schema not yet migrated): the read goes to the database.
            return null;
        }
    }

    /// <exception cref="StoreUnavailableException">The database does not answer.</exception>
    public async ValueTask AnnounceAsync(CancellationToken ct)
    {
        try
        {
            await using var db = await dialect.OpenAsync(ct);
            await db.Command(Move).ExecuteAsync(ct);
        }
        catch (Exception e) when (dialect.AsUnavailable(e) is { } outage)
        {
            throw outage;
        }
    }

    private sealed record Token(long Started, long Counter);
}
