
namespace Runs.Host.Runs;

/// <summary>The configured <see cref="SecretCipher"/> for secret env values.</summary>
public sealed class RunSecrets(IOptions<RunsOptions> options)
{
    public const string Mask = "********";

    private readonly SecretCipher _cipher = new(
        options.Value.Secrets.CurrentKeyId!,
        options.Value.Secrets.Keys.ToDictionary(k => k.Key, k => Convert.FromBase64String(k.Value)));

    public string Seal(string value) => _cipher.Encrypt(value);

    public string Open(string sealedValue) => _cipher.Decrypt(sealedValue);

    /// <summary>A scrubber that knows the run's secret values as well as the usual credential shapes.</summary>
    public Scrubber ScrubberFor(Run run) => ScrubberOf(run.Env.Where(e => e.Secret).Select(e => Open(e.Value)));

    /// <summary>A scrubber for secret values in clear, such as those of a run being triggered.</summary>
    public Scrubber ScrubberOf(IEnumerable<string> secretValues)
    {
        var values = secretValues.ToList();
        return values.Count == 0 ? Scrubber.Patterns : new Scrubber(values, options.Value.Logs.MaxSecretFormChars);
    }
}
