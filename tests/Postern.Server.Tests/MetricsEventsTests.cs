using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Postern.Server.Observability;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// Each counter of the Postern meter counts where its event happens: every login outcome, logouts, sessions opened and
/// ended by each reason, CSRF refusals. Listens to one server's own meter (each server has its own, through
/// IMeterFactory), so other tests' servers in this process do not count here.
/// </summary>
public sealed class MetricsEventsTests
{
    /// <summary>The sums of one server's Postern counters, by instrument and its one tag's value ("" without a tag).</summary>
    private sealed class Counts : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<(string Name, string Tag), long> _sums = new();

        public Counts(PosternMetrics metrics)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var tag = tags.Length == 0 ? "" : tags[0].Value?.ToString() ?? "";
                _sums.AddOrUpdate((instrument.Name, tag), value, (_, sum) => sum + value);
            });
            _listener.Start();
        }

        public long this[string name, string tag = ""] => _sums.GetValueOrDefault((name, tag));

        public string All => string.Join(", ", _sums.OrderBy(s => s.Key).Select(s => $"{s.Key.Name}[{s.Key.Tag}]={s.Value}"));

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task LoginsLogoutsSessionsAndCsrfRefusalsAreCountedByOutcomeAndReason()
    {
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Throttling:Enabled"] = "true",
        });
        var alice = await server.CreateUserAsync("alice", "alice-password");
        var inactive = await server.CreateUserAsync("ina", "ina-password");
        await server.Users.SetActiveAsync(inactive.Id, false);
        await server.CreateUserAsync("bob", "bob-password");
        var mallory = await TwoFactorUser.CreateAsync(server, "mallory");
        using var counts = new Counts(server.Services.GetRequiredService<PosternMetrics>());
        Visitor NewVisitor() => new(server.CreateRawClient());

        var wrong = NewVisitor();
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.LoginAsync("alice", "not-it")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await NewVisitor().LoginAsync("ina", "ina-password")).Status);

        // Two sessions; one ends the other; a third; a password change ends both that remain.
        var laptop = NewVisitor();
        var phone = NewVisitor();
        Assert.Equal(HttpStatusCode.OK, (await laptop.LoginAsync("alice", "alice-password")).Status);
        Assert.Equal(HttpStatusCode.OK, (await phone.LoginAsync("alice", "alice-password")).Status);
        Assert.Equal(HttpStatusCode.OK, (await laptop.PostWithTokenAsync("/api/sessions/revoke-others/", RawHttp.Json("{}"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await NewVisitor().LoginAsync("alice", "alice-password")).Status);
        await server.Accounts.ChangePasswordAsync(alice, "alice-new-password", bypassPasswordValidation: true);
        var tablet = NewVisitor();
        Assert.Equal(HttpStatusCode.OK, (await tablet.LoginAsync("alice", "alice-new-password")).Status);
        Assert.Equal(HttpStatusCode.OK, (await tablet.PostWithTokenAsync(Protocol.EndpointPaths.Logout)).Status);
        // A logout without its CSRF token is refused, and counted as such.
        Assert.Equal(HttpStatusCode.Forbidden, (await tablet.SendAsync(HttpMethod.Post, Protocol.EndpointPaths.Logout)).Status);

        // Two factors: the password, a wrong code, the right code.
        var twoFactor = NewVisitor();
        Assert.Equal(HttpStatusCode.Unauthorized, (await twoFactor.LoginAsync(mallory.Username, mallory.Password)).Status);
        var right = mallory.CodeAt(DateTimeOffset.UtcNow);
        var wrongCode = ((int.Parse(right, System.Globalization.CultureInfo.InvariantCulture) + 500_000) % 1_000_000)
            .ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(HttpStatusCode.OK, (await twoFactor.PostWithTokenAsync(Protocol.EndpointPaths.MfaAuthenticate,
            RawHttp.Json($$"""{"code": "{{wrongCode}}"}"""))).Status);
        Assert.Equal(HttpStatusCode.OK, (await twoFactor.PostWithTokenAsync(Protocol.EndpointPaths.MfaAuthenticate,
            RawHttp.Json($$"""{"code": "{{right}}"}"""))).Status);

        // Bob's wrong passwords until his account is locked: the next attempt is throttled.
        var guesser = NewVisitor();
        var refused = 0;
        while ((await guesser.LoginAsync("bob", "guess")).Status == HttpStatusCode.Unauthorized)
            Assert.True(++refused <= 10, "bob was never locked");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await guesser.LoginAsync("bob", "bob-password")).Status);

        var all = counts.All;
        Assert.True(counts["postern.logins", PosternMetrics.Outcomes.InvalidCredentials] == 2 + refused, all);
        Assert.True(counts["postern.logins", PosternMetrics.Outcomes.Inactive] == 1, all);
        Assert.True(counts["postern.logins", PosternMetrics.Outcomes.Succeeded] == 5, all);
        Assert.True(counts["postern.logins", PosternMetrics.Outcomes.MfaRequired] == 1, all);
        Assert.True(counts["postern.logins", PosternMetrics.Outcomes.MfaFailed] == 1, all);
        Assert.True(counts["postern.logins", PosternMetrics.Outcomes.MfaPassed] == 1, all);
        // The attempt that found the lock (ending the loop), and the right password after it.
        Assert.True(counts["postern.logins", PosternMetrics.Outcomes.Throttled] == 2, all);
        Assert.True(counts["postern.sessions.opened"] == 5, all);
        Assert.True(counts["postern.logouts"] == 1, all);
        Assert.True(counts["postern.sessions.ended", PosternMetrics.EndReasons.Logout] == 1, all);
        Assert.True(counts["postern.sessions.ended", PosternMetrics.EndReasons.Revoked] == 1, all);
        Assert.True(counts["postern.sessions.ended", PosternMetrics.EndReasons.PasswordChanged] == 2, all);
        Assert.True(counts["postern.csrf.failures", "token_missing"] == 1, all);
        Assert.True(counts["postern.password_hashes"] >= 10, all);
        // Every login is a write, which starts the cache over: the sessions read between them were misses; the names hit.
        Assert.True(counts["postern.read_cache.misses", "live session with its user by key"] >= 1, all);
        Assert.True(counts["postern.read_cache.hits", "user by name"] >= 1, all);
    }
}
