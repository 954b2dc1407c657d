
namespace Runs.Domain;

/// <summary>
/// Encrypts secret env values with AES-256-GCM so they are never stored in clear but can still be
/// scrubbed from later log lines. Cipher text names its key id, so keys can be rotated: new values use
/// the current key, old values still decrypt with the retired keys.
/// Format: <c>enc:v1:&lt;key id&gt;:&lt;base64(nonce | tag | cipher text)&gt;</c>.
/// </summary>
public sealed class SecretCipher
{
    private const string Prefix = "enc:v1:";
    private readonly string _currentKeyId;
    private readonly IReadOnlyDictionary<string, byte[]> _keys;

    /// <param name="keys">Key id → 32-byte key. Must contain <paramref name="currentKeyId"/>.</param>
    public SecretCipher(string currentKeyId, IReadOnlyDictionary<string, byte[]> keys)
    {
        if (!keys.TryGetValue(currentKeyId, out var current) || current.Length != 32)
        {
            throw new ArgumentException($"The current secret key '{currentKeyId}' must be present and 32 bytes long.");
        }
        _currentKeyId = currentKeyId;
        _keys = keys;
    }

    public static bool IsCipherText(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The id of the key that sealed <paramref name="cipherText"/>; null when it is not cipher text.</summary>
    public static string? KeyIdOf(string cipherText) =>
        IsCipherText(cipherText) && cipherText.IndexOf(':', Prefix.Length) is var colon and > 0 ? cipherText[Prefix.Length..colon] : null;

    public string Encrypt(string plainText)
    {
        var plain = Encoding.UTF8.GetBytes(plainText);
        var sealedBytes = new byte[12 + 16 + plain.Length];
        var nonce = sealedBytes.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keys[_currentKeyId], 16);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), Encoding.UTF8.GetBytes(_currentKeyId));
        return $"{Prefix}{_currentKeyId}:{Convert.ToBase64String(sealedBytes)}";
    }

    public string Decrypt(string cipherText)
    {
        if (!IsCipherText(cipherText))
        {
            throw new FormatException("Not a secret cipher text.");
        }
        var rest = cipherText[Prefix.Length..];
        var colon = rest.IndexOf(':');
        var keyId = rest[..colon];
        if (!_keys.TryGetValue(keyId, out var key))
        {
            throw new CryptographicException($"Secret key '{keyId}' is not configured; it is needed to read older secrets.");
        }
        var sealedBytes = Convert.FromBase64String(rest[(colon + 1)..]);
        var plain = new byte[sealedBytes.Length - 28];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), plain, Encoding.UTF8.GetBytes(keyId));
        return Encoding.UTF8.GetString(plain);
    }
}
