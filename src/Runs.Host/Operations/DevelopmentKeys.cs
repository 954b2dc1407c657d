using Microsoft.Extensions.Configuration.UserSecrets;

namespace Runs.Host.Operations;

/// <summary>
/// A Development host without a key of its own (secret values, checkpoint signing) makes one, once, and keeps it in the user-secrets store
/// (the file <c>dotnet user-secrets</c> edits), so <c>dotnet run</c> works from a fresh clone and every later
/// run can still open what earlier runs sealed. Other environments must configure their keys and refuse to
/// start without them (<see cref="RunsOptionsValidation"/>).
/// </summary>
public static class DevelopmentKeys
{
    private const string UserSecretsId = "runs-host";

    public static void EnsureSecretKey(WebApplicationBuilder builder) =>
        Ensure(builder, "Runs:Secrets:CurrentKeyId", "local",
            "Runs:Secrets:Keys:local", () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

    /// <summary>The key that signs ledger checkpoints: ECDSA P-256, PKCS#8 PEM.</summary>
    public static void EnsureCheckpointKey(WebApplicationBuilder builder) =>
        Ensure(builder, "Runs:Ledger:CurrentSigningKeyId", "local",
            "Runs:Ledger:SigningKeys:local", () => ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportPkcs8PrivateKeyPem());

    private static void Ensure(WebApplicationBuilder builder, string currentKey, string id, string materialKey, Func<string> make)
    {
        if (!builder.Environment.IsDevelopment() || !string.IsNullOrEmpty(builder.Configuration[currentKey]))
        {
            return;
        }
        var material = (Key: materialKey, Value: make());
        var path = PathHelper.GetSecretsPathFromSecretsId(UserSecretsId);
        var secrets = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? [] : [];
        secrets[currentKey] = id;
        secrets[material.Key] = material.Value;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, secrets.ToJsonString(new() { WriteIndented = true }));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        Console.Error.WriteLine($"Development: no {currentKey} configured; made a local key and kept it in {path}.");
        builder.Configuration.AddInMemoryCollection([new(currentKey, id), new(material.Key, material.Value)]);
    }
}
