using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Email;
using Postern.Server.Sessions;
using Postern.Server.Storage;

namespace Postern.Server.Accounts;

/// <summary>Postern's own small pages behind the e-mailed links, for a frontend that has none (Browsable/AccountPages.cs).</summary>
public static class AccountPagePaths
{
    /// <summary>Followed by <c>{uid}/{token}/</c>.</summary>
    public const string PasswordReset = "/auth/password/reset/confirm/";

    /// <summary>Followed by <c>{key}/</c>.</summary>
    public const string EmailVerify = "/auth/email/verify/";
}

/// <summary>Which account e-mail a request asked for, and for what address.</summary>
/// <param name="Origin">The site as the request named it, for Postern's own pages when the frontend has none.</param>
public sealed record AccountMailRequest(AccountMailKind Kind, string Email, string Origin, long? UserId = null)
{
    /// <summary>When it was asked for, in <see cref="AccountMailRequests"/>' order of events.</summary>
    internal long Sequence { get; init; }
}

public enum AccountMailKind
{
    /// <summary>A reset link to every active user with this address and a usable password.</summary>
    PasswordReset,

    /// <summary>A verification link to every active user whose present, unverified address this is.</summary>
    Verification,

    /// <summary>A verification link to one user (<see cref="AccountMailRequest.UserId"/>): after sign-up or a new address.</summary>
    VerificationOfUser,
}

/// <summary>
/// Account e-mails are looked up and written to the outbox after the answer, by <see cref="AccountMailWorker"/>: the answer
/// to "reset the password of x@example.org" takes the same time whether or not anyone has that address, because nothing
/// that depends on it (a lookup, a token, an outbox row) happens before it. A request queued here when the process stops is
/// lost (the visitor asks again); once in the outbox, nothing is.
/// </summary>
public sealed class AccountMailRequests
{
    private readonly Channel<AccountMailRequest> _requests =
        Channel.CreateBounded<AccountMailRequest>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite });

    // Users whose password changed while requests waited, with when: Django makes a reset token at the request, from the
    // password of that moment, so a change before the e-mail is written must spend it (the worker sends none).
    private readonly ConcurrentDictionary<long, long> _passwordChanges = new();
    private long _sequence;
    private int _unfinished;

    internal ChannelReader<AccountMailRequest> Reader => _requests.Reader;

    /// <summary>Queues the request; when thousands wait already (a flood), it is dropped rather than hold memory.</summary>
    public void Request(AccountMailRequest request)
    {
        Interlocked.Increment(ref _unfinished);
        if (!_requests.Writer.TryWrite(request with { Sequence = Interlocked.Increment(ref _sequence) }))
            Interlocked.Decrement(ref _unfinished);
    }

    /// <summary>Called on every new password, so that a reset request still waiting sends no token for the old one.</summary>
    public void PasswordChanged(long userId)
    {
        if (Volatile.Read(ref _unfinished) > 0)
            _passwordChanges[userId] = Interlocked.Increment(ref _sequence);
    }

    internal bool PasswordChangedSince(long userId, AccountMailRequest request) =>
        _passwordChanges.TryGetValue(userId, out var changed) && changed > request.Sequence;

    /// <summary>Forgets changes older than every request still waiting (those after <paramref name="done"/>).</summary>
    internal void Done(AccountMailRequest done)
    {
        Interlocked.Decrement(ref _unfinished);
        foreach (var (userId, changed) in _passwordChanges)
        {
            if (changed < done.Sequence)
                _passwordChanges.TryRemove(new KeyValuePair<long, long>(userId, changed));
        }
    }
}

/// <summary>Turns <see cref="AccountMailRequests"/>'s requests into e-mails in the outbox, with their links.</summary>
public sealed partial class AccountMailWorker(
    AccountMailRequests queue,
    IServiceScopeFactory scopes,
    IOptions<FrontendOptions> frontend,
    TimeProvider time,
    ILogger<AccountMailWorker> logger) : BackgroundService
{
    public const string EmailVerificationSalt = "postern.accounts.email-verification";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var request in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await SendAsync(scope.ServiceProvider, request, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, request.Kind, e);
            }
            queue.Done(request);
        }
    }

    private async Task SendAsync(IServiceProvider services, AccountMailRequest request, CancellationToken ct)
    {
        var users = services.GetRequiredService<IUserStore>();
        var outbox = services.GetRequiredService<EmailOutbox>();
        // Resolved here, not in the constructor: the key ring reads the database, which hosted services must not touch
        // before the server has migrated it and validated its options.
        var keys = services.GetRequiredService<SecretKeyRing>();
        IReadOnlyList<User> recipients = request.UserId is { } id
            ? await users.FindUserByIdUncachedAsync(id, ct) is { } one ? [one] : []
            : await users.FindUsersByEmailAsync(request.Email, ct);
        foreach (var user in recipients)
        {
            // Django's _unicode_ci_compare: the database's case-insensitive match, confirmed the way Python folds case.
            if (!user.IsActive || !SameAddress(user.Email, request.Email))
                continue;
            if (request.Kind == AccountMailKind.PasswordReset)
            {
                if (!DjangoPasswordHash.IsUsable(user.Password) || queue.PasswordChangedSince(user.Id, request))
                    continue;
                await outbox.EnqueueAsync(EmailTemplate.PasswordReset, user.Email, new Dictionary<string, string>
                {
                    ["username"] = user.Username,
                    ["reset_url"] = PasswordResetLink(keys, user, request.Origin),
                    ["site_name"] = SiteName(request.Origin),
                }, ct);
            }
            else
            {
                if (request.Kind == AccountMailKind.Verification && await users.FindVerifiedEmailAsync(user.Id, ct) == user.Email)
                    continue;
                await outbox.EnqueueAsync(EmailTemplate.EmailVerification, user.Email, new Dictionary<string, string>
                {
                    ["username"] = user.Username,
                    ["verify_url"] = VerificationLink(keys, user, request.Origin),
                    ["site_name"] = SiteName(request.Origin),
                }, ct);
            }
        }
    }

    private string PasswordResetLink(SecretKeyRing keys, User user, string origin)
    {
        var uid = ResetUid.Encode(user.Id);
        var token = keys.PasswordResetTokens.Make(PasswordResetTokenOf(user), time.GetUtcNow());
        return frontend.Value.PasswordResetUrl is { Length: > 0 } template
            ? template.Replace("{uid}", uid, StringComparison.Ordinal).Replace("{token}", token, StringComparison.Ordinal)
            : $"{origin}{AccountPagePaths.PasswordReset}{uid}/{token}/";
    }

    private string VerificationLink(SecretKeyRing keys, User user, string origin)
    {
        var key = EmailVerificationKey.Make(keys, user, time.GetUtcNow());
        return frontend.Value.EmailVerifyUrl is { Length: > 0 } template
            ? template.Replace("{key}", Uri.EscapeDataString(key), StringComparison.Ordinal)
            : $"{origin}{AccountPagePaths.EmailVerify}{Uri.EscapeDataString(key)}/";
    }

    public static PasswordResetTokenSubject PasswordResetTokenOf(User user) =>
        new(user.Id, user.Password, user.LastLogin, user.Email);

    private static string SiteName(string origin) => new Uri(origin).Authority;

    internal static bool SameAddress(string a, string b) =>
        string.Equals(a.Normalize(NormalizationForm.FormKC).ToUpperInvariant(), b.Normalize(NormalizationForm.FormKC).ToUpperInvariant(),
            StringComparison.Ordinal);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not queue the account e-mail ({Kind}).")]
    private static partial void LogFailed(ILogger logger, AccountMailKind kind, Exception error);
}

/// <summary>
/// The key of a verification link: <c>django.core.signing.dumps([user id, address], salt=...)</c>, so it names the address
/// it verifies (a key for an address the user has since replaced verifies nothing) and needs no table of its own.
/// </summary>
public static class EmailVerificationKey
{
    public static string Make(SecretKeyRing keys, User user, DateTimeOffset now) =>
        keys.Signer.Dumps(
            string.Create(CultureInfo.InvariantCulture, $"[{user.Id},{System.Text.Json.JsonSerializer.Serialize(user.Email)}]"),
            AccountMailWorker.EmailVerificationSalt, now);

    /// <summary>The user id and address a key names, or null when it is forged, malformed or older than <paramref name="maxAge"/>.</summary>
    public static (long UserId, string Email)? Read(SecretKeyRing keys, string key, DateTimeOffset now, TimeSpan maxAge)
    {
        if (keys.Signer.Loads(key, AccountMailWorker.EmailVerificationSalt, now, maxAge) is not { } json)
            return null;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            var root = document.RootElement;
            return root.ValueKind == System.Text.Json.JsonValueKind.Array && root.GetArrayLength() == 2
                && root[0].TryGetInt64(out var id) && root[1].ValueKind == System.Text.Json.JsonValueKind.String
                    ? (id, root[1].GetString()!)
                    : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
