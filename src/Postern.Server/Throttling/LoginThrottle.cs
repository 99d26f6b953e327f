using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Postern.Server.Storage;

namespace Postern.Server.Throttling;

/// <summary>
/// Stops password guessing. Each rule names the attack it stops:
/// <list type="bullet">
/// <item>Guessing one account's password from many addresses: failures are counted per account tried (whether or not it
/// exists, so a lock says nothing of existence), and 5 within the window lock it for a minute, doubling with each further
/// failure up to an hour.</item>
/// <item>Spraying many accounts from one address: more than 30 failures a minute throttle the address.</item>
/// <item>Making the server spend a hash per guess: while locked, the password is not even hashed, and the answer comes at
/// once, the same for every username.</item>
/// </list>
/// The counters live in the database, or in Redis when there is one (<see cref="IThrottleStore"/>), so every instance behind
/// the proxy throttles as one.
/// </summary>
public sealed class LoginThrottle(IThrottleStore store, IOptions<ThrottlingOptions> options, TimeProvider time)
{
    private static readonly TimeSpan AddressWindow = TimeSpan.FromMinutes(1);

    public bool Enabled => options.Value.Enabled;

    /// <summary>DRF's Throttled message: <c>Request was throttled. Expected available in N seconds.</c></summary>
    public static string Detail(int seconds) =>
        $"Request was throttled. Expected available in {seconds} second{(seconds == 1 ? "" : "s")}.";

    /// <summary>
    /// Whole seconds until a login for <paramref name="username"/> from <paramref name="address"/> may be tried (0: now),
    /// and whether the account has failures counted (which a success then clears).
    /// </summary>
    public async Task<(int WaitSeconds, bool Counted)> CheckAsync(string username, IPAddress? address, CancellationToken ct)
    {
        if (!Enabled)
            return (0, false);
        var now = time.GetUtcNow();
        var (until, counted) = await store.ReadAsync(AccountKey(username), AddressKey(address), now, ct);
        return (until is { } end ? (int)Math.Ceiling((end - now).TotalSeconds) : 0, counted);
    }

    /// <summary>A wrong password (or an unknown or inactive user): counted for the account and the address.</summary>
    /// <returns>The seconds the account is now locked for, if this failure locked it (0 otherwise).</returns>
    public async Task<int> RecordFailureAsync(string username, IPAddress? address, CancellationToken ct)
    {
        if (!Enabled)
            return 0;
        var lockedSeconds = 0;
        var settings = options.Value;
        var now = time.GetUtcNow();
        var account = AccountKey(username);
        var failures = await store.CountAsync(account, now, TimeSpan.FromSeconds(settings.AccountWindowSeconds), ct);
        if (failures >= settings.AccountFailures)
        {
            var doublings = Math.Min(failures - settings.AccountFailures, 30);
            var seconds = Math.Min((double)settings.AccountMaxLockSeconds, settings.AccountLockSeconds * Math.Pow(2, doublings));
            await store.LockAsync(account, now.AddSeconds(seconds), ct);
            lockedSeconds = (int)Math.Ceiling(seconds);
        }
        if (AddressKey(address) is { } addressKey
            && await store.CountAsync(addressKey, now, AddressWindow, ct) > settings.AddressFailuresPerMinute)
        {
            await store.LockAsync(addressKey, now + AddressWindow, ct);
        }
        return lockedSeconds;
    }

    /// <summary>A successful login clears the account's count (not the address's: one good password among many guesses).</summary>
    public Task ClearAsync(string username, CancellationToken ct) =>
        Enabled ? store.ClearAsync(AccountKey(username), ct) : Task.CompletedTask;

    /// <summary>Hashed: a username may be long, and the table need not hold what people typed.</summary>
    private static string AccountKey(string username) =>
        "account:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(username)));

    private static string? AddressKey(IPAddress? address) =>
        address is null ? null : "address:" + (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}
