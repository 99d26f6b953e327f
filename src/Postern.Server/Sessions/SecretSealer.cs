using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Postern.Server.Sessions;

/// <summary>
/// Seals small secrets for storage (a TOTP secret) with AES-256-GCM under a key derived (HKDF-SHA256) from the secret key,
/// bound to the row's owner: a database dump alone gives none of them away, and a sealed value copied to another user's
/// row does not open there. Values sealed under a fallback key still open, so the secret key can be rotated.
/// </summary>
public sealed class SecretSealer
{
    private const string Version = "v1.";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[][] _keys;

    /// <param name="purpose">Separates the keys of unrelated uses of one secret key.</param>
    public SecretSealer(string secretKey, IReadOnlyList<string>? fallbackKeys, string purpose)
    {
        var info = Encoding.UTF8.GetBytes(purpose);
        _keys = [.. new[] { secretKey }.Concat(fallbackKeys ?? []).Select(key =>
            HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(key), 32, salt: [], info))];
    }

    public string Seal(ReadOnlySpan<byte> plaintext, long ownerId)
    {
        var sealedBytes = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keys[0], TagSize);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), Owner(ownerId));
        return Version + Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>The plaintext, or null when the value was not sealed for this owner under any of the keys.</summary>
    public byte[]? Open(string sealedValue, long ownerId)
    {
        if (!sealedValue.StartsWith(Version, StringComparison.Ordinal))
            return null;
        byte[] sealedBytes;
        try
        {
            sealedBytes = Base64Url.DecodeFromChars(sealedValue.AsSpan(Version.Length));
        }
        catch (FormatException)
        {
            return null;
        }
        if (sealedBytes.Length < NonceSize + TagSize)
            return null;
        var plaintext = new byte[sealedBytes.Length - NonceSize - TagSize];
        foreach (var key in _keys)
        {
            using var aes = new AesGcm(key, TagSize);
            try
            {
                aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize),
                    plaintext, Owner(ownerId));
                return plaintext;
            }
            catch (AuthenticationTagMismatchException)
            {
                // Sealed under another key (or for another owner): the next key may open it.
            }
        }
        return null;
    }

    private static byte[] Owner(long ownerId)
    {
        var owner = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(owner, ownerId);
        return owner;
    }
}
