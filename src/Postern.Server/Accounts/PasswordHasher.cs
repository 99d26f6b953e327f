using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Hosting;

namespace Postern.Server.Accounts;

/// <summary>The outcome of checking a password.</summary>
public readonly record struct PasswordCheck(bool Matches, string? UpgradedHash);

/// <summary>
/// PBKDF2 in Django's format, with a bound on how many hashes run at once: each costs a core for a
/// few hundred milliseconds, and a login flood must not take every core from other requests.
/// </summary>
public sealed class PasswordHasher(IOptions<AccountOptions> options) : IDisposable
{
    private readonly int _iterations = options.Value.PasswordIterations;
    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentHashes, options.Value.MaxConcurrentHashes);
    private readonly Lazy<DjangoPasswordHash> _dummy = new(() =>
    {
        DjangoPasswordHash.TryParse(DjangoPasswordHash.Encode(CsrfToken.NewSecret(), options.Value.PasswordIterations), out var hash);
        return hash!;
    });

    public int Iterations => _iterations;

    public void Dispose() => _slots.Dispose();

    public string Hash(string password) => DjangoPasswordHash.Encode(password, _iterations);

    /// <summary>
    /// Checks <paramref name="password"/> against <paramref name="encoded"/>. Unknown users (null),
    /// unusable and unreadable hashes cost one full hash too, so response time does not tell which
    /// usernames exist (Django #20760, CVE-2024-39329).
    /// </summary>
    public async Task<PasswordCheck> CheckAsync(string? encoded, string password, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            if (!DjangoPasswordHash.TryParse(encoded, out var hash))
            {
                _dummy.Value.Verify(password);
                return new PasswordCheck(false, null);
            }
            if (!hash.Verify(password))
                return new PasswordCheck(false, null);
            return new PasswordCheck(true, hash.NeedsUpgrade(_iterations) ? Hash(password) : null);
        }
        finally
        {
            _slots.Release();
        }
    }
}
