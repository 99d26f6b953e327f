using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using OtpNet;
using QRCoder;

namespace Postern.Server.TwoFactor;

/// <summary>
/// RFC 6238 time-based codes, as authenticator apps make them (Otp.NET): 6 digits, 30-second steps, SHA-1, a 160-bit
/// secret; a code of the step before or after now is accepted too (clock drift). Which steps were already spent is the
/// store's business (<see cref="Storage.MfaStore.SpendStepAsync"/>).
/// </summary>
public sealed class TotpAuthenticator(TimeProvider time, IOptions<TwoFactorOptions> options)
{
    public const int Digits = 6;
    public const int StepSeconds = 30;
    private const int SecretBytes = 20;

    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(SecretBytes);

    /// <summary>The secret as apps take it typed in: base32 without padding.</summary>
    public static string ToBase32(byte[] secret) => Base32Encoding.ToString(secret).TrimEnd('=');

    /// <summary>The <c>otpauth://totp/</c> URL apps read from the QR code: issuer, account name, secret.</summary>
    public string OtpauthUrl(byte[] secret, string username) =>
        new OtpUri(OtpType.Totp, ToBase32(secret), username, options.Value.TotpIssuer).ToString();

    /// <summary>The URL as a QR code, an SVG document (QRCoder).</summary>
    public static string QrCodeSvg(string otpauthUrl)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(otpauthUrl, QRCodeGenerator.ECCLevel.M);
        return new SvgQRCode(data).GetGraphic(4);
    }

    /// <summary>Whether <paramref name="code"/> has the shape of a TOTP code (6 digits, spaces allowed as apps show them).</summary>
    public static string? Normalize(string code)
    {
        var digits = code.Replace(" ", "", StringComparison.Ordinal);
        return digits.Length == Digits && digits.All(char.IsAsciiDigit) ? digits : null;
    }

    /// <summary>The time step <paramref name="code"/> belongs to (now, or one step either side), or null when it matches none.</summary>
    public long? MatchingStep(byte[] secret, string code)
    {
        if (Normalize(code) is not { } digits)
            return null;
        var totp = new Totp(secret, StepSeconds, OtpHashMode.Sha1, Digits);
        return totp.VerifyTotp(time.GetUtcNow().UtcDateTime, digits, out var step, new VerificationWindow(previous: 1, future: 1))
            ? step
            : null;
    }
}
