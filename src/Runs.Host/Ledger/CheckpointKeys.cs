
namespace Runs.Host.Ledger;

/// <summary>The <c>Runs:Ledger</c> section: when checkpoints are written and the keys that sign them.</summary>
public sealed class LedgerOptions
{
    /// <summary>A checkpoint is written when the newest is this old (every host looks every tenth of it).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Id of the key (in <see cref="SigningKeys"/>) that signs new checkpoints.</summary>
    public string? CurrentSigningKeyId { get; set; }

    /// <summary>
    /// Key id → PEM: the current key as a PKCS#8 private key (<c>BEGIN PRIVATE KEY</c>), ECDSA P-256; retired
    /// keys as private or public keys (<c>BEGIN PUBLIC KEY</c>), kept so older checkpoints can still be checked.
    /// </summary>
    public Dictionary<string, string> SigningKeys { get; set; } = [];

    public IEnumerable<string> Problems()
    {
        if (CheckpointInterval < TimeSpan.FromSeconds(1))
        {
            yield return "Runs:Ledger:CheckpointInterval must be at least 00:00:01.";
        }
        if (string.IsNullOrWhiteSpace(CurrentSigningKeyId))
        {
            yield return "Runs:Ledger:CurrentSigningKeyId is required: the id of the key (in Runs:Ledger:SigningKeys) that signs checkpoints.";
        }
        else if (!SigningKeys.TryGetValue(CurrentSigningKeyId, out var current))
        {
            yield return $"Runs:Ledger:SigningKeys:{CurrentSigningKeyId} is missing: Runs:Ledger:CurrentSigningKeyId names it.";
        }
        else if (CheckpointKeys.Read(current) is not { Private: true })
        {
            yield return $"Runs:Ledger:SigningKeys:{CurrentSigningKeyId} must be an ECDSA P-256 private key in PKCS#8 PEM (e.g. `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`).";
        }
        foreach (var (id, pem) in SigningKeys.Where(k => k.Key != CurrentSigningKeyId))
        {
            if (CheckpointKeys.Read(pem) is null)
            {
                yield return $"Runs:Ledger:SigningKeys:{id} must be an ECDSA P-256 key in PEM (private, PKCS#8, or public).";
            }
        }
    }
}

public sealed record SigningKeyView(string Id, string Algorithm, string PublicKeyPem, bool Current);

/// <summary>The checkpoint keys from configuration: the current one signs, every one can check.</summary>
public sealed class CheckpointKeys
{
    public const string Algorithm = "ecdsa-p256-sha256";

    private readonly Dictionary<string, ECDsa> _keys = [];

    public CheckpointKeys(IOptions<RunsOptions> options)
    {
        var ledger = options.Value.Ledger;
        foreach (var (id, pem) in ledger.SigningKeys)
        {
            if (Read(pem) is { } key)
            {
                _keys[id] = key.Key;
            }
        }
        CurrentId = ledger.CurrentSigningKeyId ?? "";
    }

    public string CurrentId { get; }

    public IReadOnlyList<SigningKeyView> Describe() =>
        [.. _keys.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => new SigningKeyView(k.Key, Algorithm, k.Value.ExportSubjectPublicKeyInfoPem(), k.Key == CurrentId))];

    /// <summary>DER signature (RFC 3279), base64 — what <c>openssl dgst -verify</c> reads.</summary>
    public string Sign(byte[] statement) =>
        Convert.ToBase64String(_keys[CurrentId].SignData(statement, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

    /// <summary>Null when it holds; otherwise why not.</summary>
    public string? Check(string keyId, byte[] statement, string signature)
    {
        if (!_keys.TryGetValue(keyId, out var key))
        {
            return $"it was signed with key '{keyId}', which Runs:Ledger:SigningKeys does not hold";
        }
        var bytes = new byte[signature.Length];
        return Convert.TryFromBase64String(signature, bytes, out var length)
            && key.VerifyData(statement, bytes.AsSpan(0, length), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)
            ? null
            : $"its signature does not verify with key '{keyId}'";
    }

    public static (ECDsa Key, bool Private)? Read(string pem)
    {
        try
        {
            var key = ECDsa.Create();
            key.ImportFromPem(pem);
            if (key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                return null;
            }
            return (key, pem.Contains("PRIVATE KEY", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return null;
        }
    }
}
