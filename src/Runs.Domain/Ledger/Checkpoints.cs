using System.Globalization;

namespace Runs.Domain.Ledger;

/// <summary>A run's place in a checkpoint: its id and the hash of its last event then (and that event's version).</summary>
public sealed record RunHead(string Run, long Version, string Hash);

/// <summary>
/// The Merkle tree of Certificate Transparency (RFC 6962, section 2.1) over every run's head, runs in
/// ordinal order of their ids: a leaf hashes <c>0x00 || "&lt;run id&gt; &lt;head&gt;"</c> (UTF-8, one space),
/// an inner node <c>0x01 || left || right</c>, the split at the largest power of two below the count;
/// no runs at all hash to SHA-256 of nothing.
/// </summary>
public static class MerkleTree
{
    public static byte[] Leaf(string run, string head) =>
        SHA256.HashData([0x00, .. Encoding.UTF8.GetBytes($"{run} {head}")]);

    /// <summary>The root over <paramref name="heads"/>, which must be in ordinal order of run id.</summary>
    public static byte[] Root(IReadOnlyList<RunHead> heads)
    {
        var leaves = new byte[heads.Count][];
        for (var i = 0; i < heads.Count; i++)
        {
            leaves[i] = Leaf(heads[i].Run, heads[i].Hash);
        }
        return Root(leaves, 0, leaves.Length);
    }

    private static byte[] Root(byte[][] leaves, int start, int count)
    {
        if (count == 0)
        {
            return SHA256.HashData([]);
        }
        if (count == 1)
        {
            return leaves[start];
        }
        var split = 1;
        while (split * 2 < count)
        {
            split *= 2;
        }
        return SHA256.HashData([0x01, .. Root(leaves, start, split), .. Root(leaves, start + split, count - split)]);
    }
}

/// <summary>
/// What a checkpoint commits to and what its key signs. The checkpoint's <c>root</c> is SHA-256 over
/// <c>0x02 || previous root (32 bytes; nothing for the first checkpoint) || Merkle root of the heads</c>,
/// so it commits to every earlier checkpoint as well. The signature is ECDSA P-256 with SHA-256 (DER,
/// base64) over the statement: the UTF-8 lines <c>runs-checkpoint/1</c>, <c>id</c>, <c>at</c>, <c>runs</c>,
/// <c>root</c>, <c>previous_root</c> (<c>-</c> for none) and <c>key_id</c>, each as <c>name value\n</c>.
/// </summary>
public static class CheckpointStatement
{
    public const string Format = "runs-checkpoint/1";

    public static string Root(string? previousRoot, byte[] treeRoot) =>
        Convert.ToHexStringLower(SHA256.HashData([0x02, .. previousRoot is null ? [] : Convert.FromHexString(previousRoot), .. treeRoot]));

    public static byte[] Bytes(long id, DateTimeOffset at, long runs, string root, string? previousRoot, string keyId) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Format}\nid {id}\nat {EventChain.Timestamp(at)}\nruns {runs}\nroot {root}\nprevious_root {previousRoot ?? "-"}\nkey_id {keyId}\n"));
}
