using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Server.Api;
using Postern.Server.Api.Resources;
using Postern.Server.Storage;
using Postern.Server.Storage.Caching;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// Two in-process instances sharing one PostgreSQL database, each a private server on loopback; with one Redis too, or
/// without (the change counter then lives in PostgreSQL).
/// </summary>
public class TwoInstancesOnPostgres : IAsyncLifetime
{
    private readonly bool _withRedis;

    /// <summary>
    /// Tests that stop Redis run on a fixture with append-only on, so it comes back with the counter it had (as compose
    /// runs it).
    /// </summary>
    private readonly bool _appendOnly;

    private RedisServer? _redis;

    private protected TwoInstancesOnPostgres(bool withRedis, bool appendOnly)
    {
        _withRedis = withRedis;
        _appendOnly = appendOnly;
    }

    public PostgresServer Postgres { get; private set; } = null!;
    public bool HasRedis => _withRedis;
    public RedisServer Redis => _redis ?? throw new InvalidOperationException("This setup has no Redis.");
    public string DatabaseUrl { get; private set; } = "";
    public PosternTestServer First { get; private set; } = null!;
    public PosternTestServer Second { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        if (_withRedis)
            _redis = await RedisServer.StartAsync(_appendOnly);
        DatabaseUrl = await Postgres.CreateDatabaseAsync();
        var settings = _redis is null
            ? new Dictionary<string, string?>()
            : new Dictionary<string, string?> { ["Postern:Redis:Configuration"] = _redis.Configuration };
        First = await PosternTestServer.StartAsync(settings, databasePath: DatabaseUrl);
        Second = await PosternTestServer.StartAsync(settings, databasePath: DatabaseUrl);
        await First.CreateUserAsync("alice", "alice-password", staff: true);
    }

    public async Task DisposeAsync()
    {
        if (Second is not null)
            await Second.DisposeAsync();
        if (First is not null)
            await First.DisposeAsync();
        if (_redis is not null)
            await _redis.DisposeAsync();
        if (Postgres is not null)
            await Postgres.DisposeAsync();
    }

    public static ReadCache CacheOf(PosternTestServer instance) =>
        Assert.IsType<ReadCache>(instance.Services.GetRequiredService<Database>().Cache);

    /// <summary>Whether the instance would answer a request carrying this session key from memory.</summary>
    public static bool HoldsSession(PosternTestServer instance, string key) =>
        Assert.IsType<SessionStore>(instance.Sessions).HoldsSession(key);

    /// <summary>A new user, signed in on the first instance.</summary>
    public async Task<(Visitor OnFirst, long UserId, string Username)> SignedInOnFirstAsync(bool staff = false)
    {
        var username = "u" + Guid.NewGuid().ToString("N")[..12];
        var user = await First.CreateUserAsync(username, "pw-12345678", staff);
        var visitor = new Visitor(First.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, "pw-12345678")).Status);
        return (visitor, user.Id, username);
    }

    /// <summary>The visitor's session served twice by the second instance, which then has it cached.</summary>
    public async Task<Visitor> WarmOnSecondAsync(Visitor visitor)
    {
        var onSecond = visitor.Via(Second.CreateRawClient());
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/auth/user")).Status);
        Assert.True(HoldsSession(Second, visitor.SessionCookie!), "the second instance has the session cached");
        return onSecond;
    }
}

/// <summary>As compose runs them: one PostgreSQL database and one Redis.</summary>
public class TwoInstancesOnPostgresAndRedis : TwoInstancesOnPostgres
{
    public TwoInstancesOnPostgresAndRedis()
        : base(withRedis: true, appendOnly: false)
    {
    }

    private protected TwoInstancesOnPostgresAndRedis(bool appendOnly)
        : base(withRedis: true, appendOnly)
    {
    }
}

/// <summary>PostgreSQL and no Redis: the instances' caches are kept exact by the counter in the database.</summary>
public sealed class TwoInstancesOnPostgresAlone() : TwoInstancesOnPostgres(withRedis: false, appendOnly: false);

/// <summary>
/// What the change counter (in Redis, or in PostgreSQL alone) is for: each instance caches sessions and users in memory,
/// yet a logout, a revocation, a password change or a deactivation on one instance is refused by the other at its very
/// next request, cache warm or not.
/// </summary>
public abstract class SharedCacheScenarios<TSetup>(TSetup setup) : IClassFixture<TSetup>
    where TSetup : TwoInstancesOnPostgres
{
    private static async Task AssertRefusedAsync(Visitor visitor)
    {
        var response = await visitor.GetAsync("/auth/user");
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("Authentication credentials were not provided.", response.Detail);
    }

    /// <summary>A user signed in twice on the first instance, a laptop and a phone; both sessions cached by the second.</summary>
    private async Task<(Visitor Laptop, Visitor LaptopOnSecond, Visitor PhoneOnSecond, long UserId)> TwoWarmSessionsAsync()
    {
        var (laptop, userId, username) = await setup.SignedInOnFirstAsync();
        var phone = new Visitor(setup.First.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await phone.LoginAsync(username, "pw-12345678")).Status);
        return (laptop, await setup.WarmOnSecondAsync(laptop), await setup.WarmOnSecondAsync(phone), userId);
    }

    [Fact]
    public async Task BothInstancesCacheKeptExactByTheSharedCounter()
    {
        foreach (var instance in new[] { setup.First, setup.Second })
        {
            Assert.Equal(setup.HasRedis ? nameof(RedisChangeCounter) : "PostgresChangeCounter",
                TwoInstancesOnPostgres.CacheOf(instance).Signal.GetType().Name);
            Assert.IsType<UserStore>(instance.Users);
            Assert.IsType<SessionStore>(instance.Sessions);
            Assert.IsType<GroupStore>(instance.Groups);
        }
        var (visitor, _, _) = await setup.SignedInOnFirstAsync();
        await setup.WarmOnSecondAsync(visitor);
        Assert.True(TwoInstancesOnPostgres.CacheOf(setup.Second).Count > 0);
    }

    [Fact]
    public async Task ASessionMadeOnOneInstanceWorksOnTheOther()
    {
        var (visitor, userId, username) = await setup.SignedInOnFirstAsync(staff: true);
        var onSecond = await setup.WarmOnSecondAsync(visitor);

        var user = await onSecond.GetAsync("/auth/user");
        Assert.Equal(username, user.Json().GetProperty("username").GetString());
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/api/users/")).Status);
        var patch = await onSecond.SendAsync(HttpMethod.Patch, $"/api/users/{userId}/", RawHttp.Json("""{"email": "second@example.org"}"""),
            ("X-CSRFToken", visitor.CsrfCookie!));
        Assert.Equal(HttpStatusCode.OK, patch.Status);
        // ... and what the second instance wrote, the first reads at once.
        var onFirst = await visitor.GetAsync($"/api/users/{userId}/");
        Assert.Equal("second@example.org", onFirst.Json().GetProperty("email").GetString());
    }

    [Fact]
    public async Task ALogoutOnOneInstanceIsRefusedOnTheOtherAtTheNextRequest()
    {
        var (visitor, _, _) = await setup.SignedInOnFirstAsync();
        var onSecond = await setup.WarmOnSecondAsync(visitor);
        var key = visitor.SessionCookie!;

        Assert.Equal(HttpStatusCode.OK, (await visitor.PostWithTokenAsync("/auth/logout")).Status);

        onSecond.Jar[Protocol.CookieNames.Session] = key; // the old cookie, as a thief would replay it
        await AssertRefusedAsync(onSecond);
    }

    [Fact]
    public async Task DeletingASessionOnOneInstanceIsRefusedOnTheOther()
    {
        var (laptop, laptopOnSecond, phoneOnSecond, _) = await TwoWarmSessionsAsync();

        var delete = await laptop.SendAsync(HttpMethod.Delete,
            $"/api/sessions/{SessionsResource.PublicId(phoneOnSecond.SessionCookie!)}/", null, ("X-CSRFToken", laptop.CsrfCookie!));
        Assert.Equal(HttpStatusCode.NoContent, delete.Status);

        await AssertRefusedAsync(phoneOnSecond);
        Assert.Equal(HttpStatusCode.OK, (await laptopOnSecond.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task RevokingTheOtherSessionsOnOneInstanceIsRefusedOnTheOther()
    {
        var (laptop, laptopOnSecond, phoneOnSecond, _) = await TwoWarmSessionsAsync();

        var revoke = await laptop.PostWithTokenAsync("/api/sessions/revoke-others/");
        Assert.Equal(HttpStatusCode.OK, revoke.Status);
        Assert.Equal(1, revoke.Json().GetProperty("revoked").GetInt32());

        await AssertRefusedAsync(phoneOnSecond);
        Assert.Equal(HttpStatusCode.OK, (await laptopOnSecond.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task APasswordChangeOnOneInstanceEndsTheOtherSessionsOnTheOther()
    {
        var (laptop, laptopOnSecond, phoneOnSecond, userId) = await TwoWarmSessionsAsync();

        var user = await setup.First.Users.FindUserByIdAsync(userId);
        await setup.First.Accounts.ChangePasswordAsync(user!, "a-new-password", keepSessionKey: laptop.SessionCookie);

        await AssertRefusedAsync(phoneOnSecond);
        Assert.Equal(HttpStatusCode.OK, (await laptopOnSecond.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task ThePasswordChangeEndpointOnOneInstanceEndsTheOtherSessionsOnTheOther()
    {
        var (laptop, laptopOnSecond, phoneOnSecond, _) = await TwoWarmSessionsAsync();

        var change = await laptop.PostWithTokenAsync(EndpointPaths.PasswordChange, RawHttp.Json(
            """{"old_password": "pw-12345678", "new_password1": "Quite-New-Secret9", "new_password2": "Quite-New-Secret9"}"""));
        Assert.True(change.Status == HttpStatusCode.OK, change.Body);

        await AssertRefusedAsync(phoneOnSecond);
        // The laptop's session lives on under its new key (update_session_auth_hash), on the other instance too.
        Assert.Equal(HttpStatusCode.OK, (await laptopOnSecond.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task AStaffSetPasswordOnOneInstanceEndsTheUsersSessionsOnTheOther()
    {
        var (_, laptopOnSecond, phoneOnSecond, userId) = await TwoWarmSessionsAsync();
        var staff = new Visitor(setup.First.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await staff.LoginAsync("alice", "alice-password")).Status);

        var set = await staff.PostWithTokenAsync($"/api/users/{userId}/set_password/", RawHttp.Json("""{"password": "Quite-New-Secret9"}"""));
        Assert.True(set.Status == HttpStatusCode.OK, set.Body);

        await AssertRefusedAsync(laptopOnSecond);
        await AssertRefusedAsync(phoneOnSecond);
    }

    [Fact]
    public async Task TheChangepasswordCommandIsSeenByTheRunningInstancesAtOnce()
    {
        var (visitor, _, username) = await setup.SignedInOnFirstAsync();
        var onSecond = await setup.WarmOnSecondAsync(visitor);

        var folder = Directory.CreateTempSubdirectory("postern-changepassword-").FullName;
        var result = await PosternProcess.RunAsync(folder,
            ["changepassword", username, "--password-stdin", "--db", setup.DatabaseUrl,
                .. setup.HasRedis ? new[] { "--redis", setup.Redis.Configuration } : []],
            stdin: "a-new-password\n");
        Assert.True(result.ExitCode == 0, result.ToString());

        await AssertRefusedAsync(onSecond);
    }

    [Fact]
    public async Task ADeactivationOnOneInstanceIsRefusedOnTheOther()
    {
        var (visitor, userId, _) = await setup.SignedInOnFirstAsync();
        var onSecond = await setup.WarmOnSecondAsync(visitor);

        await setup.First.Users.SetActiveAsync(userId, false);

        await AssertRefusedAsync(onSecond);
    }

    [Fact]
    public async Task ADeletionThroughTheApiOnOneInstanceIsRefusedOnTheOther()
    {
        var (visitor, userId, _) = await setup.SignedInOnFirstAsync();
        var onSecond = await setup.WarmOnSecondAsync(visitor);
        var staff = new Visitor(setup.First.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await staff.LoginAsync("alice", "alice-password")).Status);

        var delete = await staff.SendAsync(HttpMethod.Delete, $"/api/users/{userId}/", null, ("X-CSRFToken", staff.CsrfCookie!));
        Assert.Equal(HttpStatusCode.NoContent, delete.Status);

        await AssertRefusedAsync(onSecond);
    }

    [Fact]
    public async Task ARenameOnOneInstanceShowsOnTheOtherAtTheNextRequest()
    {
        var (staff, userId, _) = await setup.SignedInOnFirstAsync(staff: true);
        var onSecond = await setup.WarmOnSecondAsync(staff);
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync($"/api/users/{userId}/")).Status);

        var renamed = "r" + Guid.NewGuid().ToString("N")[..12];
        var patch = await staff.SendAsync(HttpMethod.Patch, $"/api/users/{userId}/", RawHttp.Json($$"""{"username": "{{renamed}}"}"""),
            ("X-CSRFToken", staff.CsrfCookie!));
        Assert.Equal(HttpStatusCode.OK, patch.Status);

        Assert.Equal(renamed, (await onSecond.GetAsync($"/api/users/{userId}/")).Json().GetProperty("username").GetString());
    }
}

[Trait("Store", "postgres-only")]
public sealed class SharedCacheTests(TwoInstancesOnPostgresAndRedis setup) : SharedCacheScenarios<TwoInstancesOnPostgresAndRedis>(setup);

/// <summary>
/// PostgreSQL alone: the same scenarios, and what only its triggers give: writes that no Postern announced (an operator's
/// psql) are seen at the next request, while the writes left unannounced on purpose do not move the counter.
/// </summary>
[Trait("Store", "postgres-only")]
public sealed class SharedCacheOnPostgresAloneTests : SharedCacheScenarios<TwoInstancesOnPostgresAlone>
{
    private readonly TwoInstancesOnPostgresAlone _setup;

    public SharedCacheOnPostgresAloneTests(TwoInstancesOnPostgresAlone setup)
        : base(setup) => _setup = setup;

    private Task<long> CounterAsync() => TestStore.QueryInt64Async(_setup.DatabaseUrl, "SELECT counter FROM change_counter WHERE id = 1;");

    [Fact]
    public async Task AnUnannouncedWriteInPsqlIsSeenAtTheNextRequest()
    {
        var (visitor, userId, _) = await _setup.SignedInOnFirstAsync();
        var onSecond = await _setup.WarmOnSecondAsync(visitor);

        await TestStore.ExecuteAsync(_setup.DatabaseUrl, "UPDATE users SET is_active = false WHERE id = @id;", ("@id", userId));

        var refused = await onSecond.GetAsync("/auth/user");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
    }

    [Fact]
    public async Task TheWritesLeftUnannouncedOnPurposeDoNotMoveTheCounter()
    {
        var (visitor, userId, _) = await _setup.SignedInOnFirstAsync();
        await _setup.WarmOnSecondAsync(visitor);
        var before = await CounterAsync();

        await TestStore.ExecuteAsync(_setup.DatabaseUrl, "UPDATE users SET last_login = 1 WHERE id = @id;", ("@id", userId));
        await TestStore.ExecuteAsync(_setup.DatabaseUrl, "UPDATE sessions SET last_seen_at = 1 WHERE user_id = @id;", ("@id", userId));
        Assert.Equal(before, await CounterAsync());
        Assert.True(TwoInstancesOnPostgres.HoldsSession(_setup.Second, visitor.SessionCookie!));

        await TestStore.ExecuteAsync(_setup.DatabaseUrl, "UPDATE users SET first_name = 'Moved' WHERE id = @id;", ("@id", userId));
        Assert.Equal(before + 1, await CounterAsync());
    }
}
