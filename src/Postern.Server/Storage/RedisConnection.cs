using StackExchange.Redis;

namespace Postern.Server.Storage;

/// <summary>
/// The one connection an instance keeps to Redis (<c>Postern:Redis</c>), shared by what lives there: the change counter
/// of the read cache (Caching/RedisChangeCounter.cs) and, unless told otherwise, the throttle's counters
/// (RedisThrottleStore.cs). It starts and keeps running while Redis is down, and fails a command at once rather than
/// queueing it behind a reconnect: a caller then answers 503 or reads the database, as its own rules say.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly ConnectionMultiplexer _redis;

    /// <param name="metrics">Measures commands and counts failures (<c>postern.redis.*</c>).</param>
    public RedisConnection(string configuration, Observability.PosternMetrics? metrics = null)
    {
        Metrics = metrics;
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.AsyncTimeout = 1000;
        options.SyncTimeout = 1000;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        // Back within seconds of Redis: until then every read costs a query and every announced write is refused.
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
        options.ClientName ??= "postern";
        Description = string.Join(",", options.EndPoints.Select(EndPointCollection.ToString));
        _redis = ConnectionMultiplexer.Connect(options);
    }

    /// <summary>Where Redis is (its endpoints, without any password), for messages.</summary>
    public string Description { get; }

    internal Observability.PosternMetrics? Metrics { get; }

    public bool IsConnected => _redis.IsConnected;

    public IDatabase Database => _redis.GetDatabase();

    /// <summary>How many sockets this client has opened to Redis so far: a new one after every outage or restart.</summary>
    public long SocketsOpened => _redis.GetCounters().Interactive.SocketCount;

    /// <summary>Runs a command, a Redis that does not answer becoming <see cref="StoreUnavailableException"/> (a 503).</summary>
    /// <param name="operation">What it is for, the <c>operation</c> tag of its metrics (a short fixed name).</param>
    /// <exception cref="StoreUnavailableException">Redis does not answer.</exception>
    public async Task<T> RunAsync<T>(string operation, Func<IDatabase, Task<T>> command)
    {
        var start = Metrics?.RedisStart() ?? 0;
        try
        {
            var result = await command(_redis.GetDatabase());
            Metrics?.RedisOperation(operation, start);
            return result;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Metrics?.RedisError(operation);
            throw new StoreUnavailableException($"Redis at {Description} does not answer.", e);
        }
    }

    /// <summary>Asks Redis itself, for the readiness probe.</summary>
    /// <exception cref="StoreUnavailableException">Redis does not answer.</exception>
    public Task PingAsync(CancellationToken ct) => RunAsync("ping", db => db.PingAsync().WaitAsync(ct));

    public void Dispose() => _redis.Dispose();
}
