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
internal sealed class PostgresChangeCounter(PostgresDialect dialect, Schema.TableNames? tables = null) : IStoreChangeSignal
{
    /// <summary>
    /// The counter and when the server started: a restored backup or a failover to a replica that lags can hand back a
    /// counter seen before, but it comes with another start time, so no token read after it equals one read before.
    /// </summary>
    private const string ReadCounter =
        "SELECT counter, CAST(EXTRACT(EPOCH FROM pg_postmaster_start_time()) * 1000000 AS bigint) FROM change_counter WHERE id = 1;";

    private const string MoveCounter = "UPDATE change_counter SET counter = counter + 1 WHERE id = 1;";

    // Beside Django, the counter's table carries Postern's prefix (Schema/TableNames.cs).
    private readonly string _read = tables?.Translate(ReadCounter) ?? ReadCounter;
    private readonly string _move = tables?.Translate(MoveCounter) ?? MoveCounter;

    private readonly Lock _gate = new();

    /// <summary>The requests waiting for a read that has not started yet; they all get its answer.</summary>
    private TaskCompletionSource<ChangeToken?>? _waiting;

    /// <summary>Whether a read is running now.</summary>
    private bool _reading;

    /// <summary>
    /// The token as read by a query that started after this call: requests arriving while a read runs wait for the next
    /// one, and share it. Under load that is one query per round of requests, not one per request, and every answer is
    /// still at least as new as the request that gets it (what a cached read needs to be exact).
    /// </summary>
    public ValueTask<ChangeToken?> CurrentAsync(CancellationToken ct)
    {
        TaskCompletionSource<ChangeToken?> answer;
        var start = false;
        lock (_gate)
        {
            answer = _waiting ??= new TaskCompletionSource<ChangeToken?>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_reading)
            {
                _reading = true;
                _waiting = null;
                start = true;
            }
        }
        if (start)
            _ = ReadForAsync(answer);
        return new ValueTask<ChangeToken?>(answer.Task.WaitAsync(ct));
    }

    /// <summary>Reads for one round of waiting requests, then for the round that gathered meanwhile, until none waits.</summary>
    private async Task ReadForAsync(TaskCompletionSource<ChangeToken?> round)
    {
        while (true)
        {
            try
            {
                round.SetResult(await ReadAsync());
            }
            catch (Exception e)
            {
                round.SetException(e);
            }
            lock (_gate)
            {
                if (_waiting is null)
                {
                    _reading = false;
                    return;
                }
                round = _waiting;
                _waiting = null;
            }
        }
    }

    private async Task<ChangeToken?> ReadAsync()
    {
        try
        {
            // No caller's token: the read serves a whole round of requests, and its own timeouts bound it.
            await using var db = await dialect.OpenAsync(CancellationToken.None);
            return await db.Command(_read).ReadFirstOrDefaultAsync(static row => new Token(row.GetInt64(1), row.GetInt64(0))) is { } token
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
            await db.Command(_move).ExecuteAsync(ct);
        }
        catch (Exception e) when (dialect.AsUnavailable(e) is { } outage)
        {
            throw outage;
        }
    }

    private sealed record Token(long Started, long Counter);
}
