using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Postern.Server.Storage;

namespace Postern.Server.Throttling;

/// <summary>
/// A rate as DRF writes one (<c>5/m</c>, <c>20/min</c>, <c>100/h</c>, <c>1/d</c>: the period's first letter counts), or as
/// django-allauth multiplies the period (<c>1/3m</c>).
/// </summary>
public readonly record struct Rate(int Count, TimeSpan Per)
{
    public static bool TryParse(string? text, out Rate rate)
    {
        rate = default;
        var slash = text?.IndexOf('/') ?? -1;
        if (slash <= 0 || !int.TryParse(text![..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
            return false;
        var period = text[(slash + 1)..];
        var digits = period.TakeWhile(char.IsAsciiDigit).Count();
        var multiplier = digits == 0 ? 1 : int.TryParse(period[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
        if (multiplier < 1 || period.Length == digits)
            return false;
        TimeSpan? unit = period[digits] switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            'h' => TimeSpan.FromHours(1),
            'd' => TimeSpan.FromDays(1),
            _ => null,
        };
        if (unit is null)
            return false;
        rate = new Rate(count, unit.Value * multiplier);
        return true;
    }
}

/// <summary>
/// Limits how often an action may be asked for (a reset e-mail, a verification e-mail, a sign-up), per client address or
/// per e-mail address, with fixed windows counted where the login throttle counts (<see cref="IThrottleStore"/>: the
/// database, or Redis): every instance shares them, which the in-memory limiters of System.Threading.RateLimiting cannot do. A limit on the e-mail address answers the same whether or not
/// anyone has it.
/// </summary>
public sealed class RequestRateLimiter(IThrottleStore store, IOptions<ThrottlingOptions> options, TimeProvider time)
{
    /// <summary>Counts this request against <paramref name="rateName"/> for <paramref name="subject"/>: seconds to wait when over it, else 0.</summary>
    public Task<int> HitAsync(string rateName, string subject, CancellationToken ct) =>
        options.Value.Enabled ? HitAsync(rateName, options.Value.Rate(rateName), subject, ct) : Task.FromResult(0);

    /// <summary>
    /// Counts this request against <paramref name="rate"/>, named <paramref name="rateName"/> in its keys, for
    /// <paramref name="subject"/>: seconds to wait when over it, else 0. For rates without a default (the API's), whose caller
    /// has already found them in force.
    /// </summary>
    public async Task<int> HitAsync(string rateName, Rate rate, string subject, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var periodTicks = rate.Per.Ticks;
        var window = now.UtcTicks / periodTicks;
        var key = $"rate:{rateName}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject)))[..32]}:{window}";
        // The key names its window, so its count never starts again inside it (it is never quiet for a whole period there),
        // and a store that forgets quiet keys forgets it a period after its last request.
        var count = await store.CountAsync(key, now, rate.Per, ct);
        if (count <= rate.Count)
            return 0;
        var windowEnd = new DateTimeOffset((window + 1) * periodTicks, TimeSpan.Zero);
        return Math.Max(1, (int)Math.Ceiling((windowEnd - now).TotalSeconds));
    }
}

/// <summary>The rates <see cref="RequestRateLimiter"/> knows, by the names <c>Postern:Throttling:Rates</c> sets them under.</summary>
public static class RateNames
{
    public const string PasswordResetPerAddress = "password_reset_address";
    public const string PasswordResetPerEmail = "password_reset_email";
    public const string VerificationResendPerAddress = "verification_resend_address";
    public const string VerificationResendPerEmail = "verification_resend_email";
    public const string SignupPerAddress = "signup_address";

    /// <summary>django-allauth's defaults for the same actions.</summary>
    public static IReadOnlyDictionary<string, string> Defaults { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [PasswordResetPerAddress] = "20/m",
        [PasswordResetPerEmail] = "5/m",
        [VerificationResendPerAddress] = "20/m",
        [VerificationResendPerEmail] = "1/3m",
        [SignupPerAddress] = "20/m",
    };
}
