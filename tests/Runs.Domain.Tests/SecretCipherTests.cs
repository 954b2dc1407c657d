using System.Security.Cryptography;

namespace Runs.Domain.Tests;

public sealed class SecretCipherTests
{
    private static readonly byte[] Old = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] New = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void A_secret_round_trips_and_its_cipher_text_does_not_contain_it()
    {
        var cipher = new SecretCipher("k1", new Dictionary<string, byte[]> { ["k1"] = Old });
        var sealedValue = cipher.Encrypt("hunter2");
        Assert.DoesNotContain("hunter2", sealedValue);
        Assert.StartsWith("enc:v1:k1:", sealedValue);
        Assert.Equal("hunter2", cipher.Decrypt(sealedValue));
    }

    [Fact]
    public void After_rotation_old_secrets_still_open_and_new_ones_use_the_new_key()
    {
        var before = new SecretCipher("k1", new Dictionary<string, byte[]> { ["k1"] = Old });
        var sealedEarlier = before.Encrypt("old-secret");
        var after = new SecretCipher("k2", new Dictionary<string, byte[]> { ["k1"] = Old, ["k2"] = New });

        Assert.Equal("old-secret", after.Decrypt(sealedEarlier));
        Assert.StartsWith("enc:v1:k2:", after.Encrypt("new-secret"));
    }

    [Fact]
    public void Tampered_cipher_text_does_not_open()
    {
        var cipher = new SecretCipher("k1", new Dictionary<string, byte[]> { ["k1"] = Old });
        var sealedValue = cipher.Encrypt("hunter2");
        var bytes = Convert.FromBase64String(sealedValue["enc:v1:k1:".Length..]);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => cipher.Decrypt("enc:v1:k1:" + Convert.ToBase64String(bytes)));
    }
}
