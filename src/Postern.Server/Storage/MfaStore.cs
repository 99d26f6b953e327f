using System.Data.Common;
using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>A user's TOTP authenticator as stored: the sealed secret, and whether a first code has confirmed it.</summary>
public sealed record StoredTotp(string SealedSecret, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt)
{
    public bool IsActive => ActivatedAt is not null;
}

/// <summary>What a user has of two-factor authentication.</summary>
public sealed record MfaState(StoredTotp? Totp, int RecoveryCodesLeft);

/// <summary>
/// Two-factor authentication in the <c>mfa_totp</c> and <c>mfa_recovery_codes</c> tables (TwoFactor/). Each use of a
/// code is one conditional statement, so that two instances racing with the same code accept it once. Never cached:
/// nothing cached depends on these rows, and they are read only at login and on the <c>/auth/mfa</c> endpoints.
/// </summary>
public sealed class MfaStore(Database database)
{
    public Task<MfaState> GetAsync(long userId, CancellationToken ct) =>
        database.ReadAsync(async db =>
        {
            var totp = await db.Command("SELECT sealed_secret, created_at, activated_at FROM mfa_totp WHERE user_id = @user;")
                .With("@user", userId)
                .ReadFirstOrDefaultAsync(row => new StoredTotp(
                    row.GetString(0), FromMicros(row.GetInt64(1)), row.IsDBNull(2) ? null : FromMicros(row.GetInt64(2))), ct);
            var left = await db.Command("SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = @user;").With("@user", userId)
                .ReadInt64Async(ct);
            return new MfaState(totp, (int)left);
        }, ct);

    /// <summary>Whether the user must give a second factor to log in: one indexed read per correct password.</summary>
    public Task<bool> IsActiveAsync(long userId, CancellationToken ct) =>
        database.ReadAsync(async db => await db.Command(
                "SELECT COUNT(*) FROM mfa_totp WHERE user_id = @user AND activated_at IS NOT NULL;")
            .With("@user", userId).ReadInt64Async(ct) > 0, ct);

    /// <summary>
    /// Keeps a new secret waiting for its first code, replacing one set up before; false (nothing written) when the user's
    /// TOTP is already active, which only turning it off replaces.
    /// </summary>
    public Task<bool> SaveSetupAsync(long userId, string sealedSecret, DateTimeOffset now, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(async db => await db.Command(
                """
                INSERT INTO mfa_totp (user_id, sealed_secret, created_at, activated_at, last_step) VALUES (@user, @secret, @now, NULL, 0)
                ON CONFLICT (user_id) DO UPDATE SET sealed_secret = @secret, created_at = @now, last_step = 0
                WHERE mfa_totp.activated_at IS NULL;
                """)
            .With("@user", userId).With("@secret", sealedSecret).With("@now", Micros(now)).ExecuteAsync(ct) > 0, ct);

    /// <summary>
    /// Turns the waiting secret on, spending the step its first code came from, and gives the user these recovery codes
    /// (replacing any), in one transaction; false when nothing was waiting (turned on meanwhile, or never set up).
    /// </summary>
    public Task<bool> ActivateAsync(long userId, long step, IReadOnlyList<string> recoveryCodeHashes, DateTimeOffset now,
        CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            var activated = await db.Command(
                    "UPDATE mfa_totp SET activated_at = @now, last_step = @step WHERE user_id = @user AND activated_at IS NULL;", tx)
                .With("@user", userId).With("@step", step).With("@now", Micros(now)).ExecuteAsync(ct);
            if (activated == 0)
                return false;
            await ReplaceRecoveryCodesAsync(db, tx, userId, recoveryCodeHashes, now, ct);
            await tx.CommitAsync(ct);
            return true;
        }, ct);

    /// <summary>
    /// Spends a time step of the user's active TOTP: true only for a step later than any accepted before, so a code (and
    /// any code of an earlier step) is accepted at most once, whichever instance sees it.
    /// </summary>
    public Task<bool> SpendStepAsync(long userId, long step, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(async db => await db.Command(
                "UPDATE mfa_totp SET last_step = @step WHERE user_id = @user AND activated_at IS NOT NULL AND last_step < @step;")
            .With("@user", userId).With("@step", step).ExecuteAsync(ct) > 0, ct);

    /// <summary>Spends one recovery code: true when the user had it (it is gone now).</summary>
    public Task<bool> SpendRecoveryCodeAsync(long userId, string codeHash, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(async db => await db.Command(
                "DELETE FROM mfa_recovery_codes WHERE user_id = @user AND code_hash = @hash;")
            .With("@user", userId).With("@hash", codeHash).ExecuteAsync(ct) > 0, ct);

    /// <summary>New recovery codes in place of the old ones; false (nothing written) unless the user's TOTP is active.</summary>
    public Task<bool> ReplaceRecoveryCodesAsync(long userId, IReadOnlyList<string> codeHashes, DateTimeOffset now, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            var active = await db.Command("SELECT COUNT(*) FROM mfa_totp WHERE user_id = @user AND activated_at IS NOT NULL;", tx)
                .With("@user", userId).ReadInt64Async(ct);
            if (active == 0)
                return false;
            await ReplaceRecoveryCodesAsync(db, tx, userId, codeHashes, now, ct);
            await tx.CommitAsync(ct);
            return true;
        }, ct);

    /// <summary>Turns two-factor authentication off: the secret and the recovery codes go. False when there was nothing.</summary>
    public Task<bool> DeleteAsync(long userId, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            await db.Command("DELETE FROM mfa_recovery_codes WHERE user_id = @user;", tx).With("@user", userId).ExecuteAsync(ct);
            var deleted = await db.Command("DELETE FROM mfa_totp WHERE user_id = @user;", tx).With("@user", userId).ExecuteAsync(ct);
            await tx.CommitAsync(ct);
            return deleted > 0;
        }, ct);

    private static async Task ReplaceRecoveryCodesAsync(DbConnection db, DbTransaction tx, long userId, IReadOnlyList<string> codeHashes,
        DateTimeOffset now, CancellationToken ct)
    {
        await db.Command("DELETE FROM mfa_recovery_codes WHERE user_id = @user;", tx).With("@user", userId).ExecuteAsync(ct);
        foreach (var hash in codeHashes)
        {
            await db.Command("INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at) VALUES (@user, @hash, @now);", tx)
                .With("@user", userId).With("@hash", hash).With("@now", Micros(now)).ExecuteAsync(ct);
        }
    }
}
