using Microsoft.Extensions.Options;
using Postern.Protocol;

namespace Postern.Server.Accounts;

/// <summary>The outcome of checking a password.</summary>
public readonly record struct PasswordCheck(bool Matches, string? UpgradedHash);

/// <summary>
/// PBKDF2 in Django's format, on <see cref="HashingThreads"/>: each hash costs a core for a few hundred
/// milliseconds, so how many run at once is bounded and a login flood cannot take the CPU from other requests.
/// </summary>
public sealed class PasswordHasher(IOptions<AccountOptions> options, Observability.PosternMetrics? metrics = null) : IDisposable
{
    private readonly int _iterations = options.Value.PasswordIterations;
    private readonly bool _rehash = options.Value.RehashAtLogin ?? true;
    private readonly HashingThreads _threads = new(options.Value.MaxConcurrentHashes, metrics);
    private readonly Lazy<DjangoPasswordHash> _dummy = new(() =>
    {
        DjangoPasswordHash.TryParse(DjangoPasswordHash.Encode(CsrfToken.NewSecret(), options.Value.PasswordIterations), out var hash);
        return hash!;
    });

    public int Iterations => _iterations;

    public void Dispose() => _threads.Dispose();

    public Task<string> HashAsync(string password, CancellationToken ct) => _threads.RunAsync(() => Hash(password), ct);

    private string Hash(string password) => DjangoPasswordHash.Encode(password, _iterations);

    /// <summary>
    /// Checks <paramref name="password"/> against <paramref name="encoded"/>. Unknown users (null),
    /// unusable and unreadable hashes cost one full hash too, so response time does not tell which
    /// usernames exist (Django #20760, CVE-2024-39329).
    /// </summary>
    public Task<PasswordCheck> CheckAsync(string? encoded, string password, CancellationToken ct) =>
        _threads.RunAsync(() => Check(encoded, password), ct);

    private PasswordCheck Check(string? encoded, string password)
    {
        if (!DjangoPasswordHash.TryParse(encoded, out var hash))
        {
            _dummy.Value.Verify(password);
            return new PasswordCheck(false, null);
        }
        if (!hash.Verify(password))
        {
            // Django's harden_runtime: a hash of fewer iterations (Django 3.2's 260,000) would answer a wrong password
            // sooner than an unknown user does, telling such usernames apart; the difference is spent here.
            if (hash.Iterations < _iterations)
                DjangoPasswordHash.Encode(password, _iterations - hash.Iterations, hash.Salt);
            return new PasswordCheck(false, null);
        }
        return new PasswordCheck(true, _rehash && hash.NeedsUpgrade(_iterations) ? Hash(password) : null);
    }
}
