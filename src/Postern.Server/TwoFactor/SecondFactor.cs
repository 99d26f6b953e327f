using Postern.Server.Sessions;
using Postern.Server.Storage;

namespace Postern.Server.TwoFactor;

/// <summary>Checks a second factor: a TOTP code (each step accepted once) or a recovery code (each accepted once).</summary>
public sealed class SecondFactor(MfaStore store, TotpAuthenticator totp, SecretKeyRing keys)
{
    public const string IncorrectCode = "Incorrect code.";

    /// <summary>True when <paramref name="code"/> is a good code of the user's, now spent.</summary>
    public async Task<bool> VerifyAsync(User user, string code, CancellationToken ct)
    {
        if (TotpAuthenticator.Normalize(code) is not null)
        {
            var state = await store.GetAsync(user.Id, ct);
            return state.Totp is { IsActive: true } stored
                && keys.TotpSecrets.Open(stored.SealedSecret, user.Id) is { } secret
                && totp.MatchingStep(secret, code) is { } step
                && await store.SpendStepAsync(user.Id, step, ct);
        }
        return RecoveryCodes.Normalize(code) is { } recovery
            && await store.SpendRecoveryCodeAsync(user.Id, RecoveryCodes.Hash(recovery), ct);
    }
}
