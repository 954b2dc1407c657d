using System.Security.Cryptography;
using System.Text;
using Runs.Domain.Ledger;

namespace Runs.Domain.Tests;

public sealed class LedgerEncodingTests
{
    private static string Canonical(string json) => Encoding.UTF8.GetString(CanonicalJson.Encode(JsonDocument.Parse(json).RootElement));

    [Theory]
    [InlineData("100", "100")]
    [InlineData("1E2", "100")]
    [InlineData("1e+2", "100")]
    [InlineData("100.00", "100")]
    [InlineData("1.50", "1.5")]
    [InlineData("-0.0", "0")]
    [InlineData("0", "0")]
    [InlineData("0.000120", "0.00012")]
    [InlineData("1.5e-3", "0.0015")]
    [InlineData("-12e1", "-120")]
    [InlineData("12345678901234567890123456789.5", "12345678901234567890123456789.5")]
    [InlineData("0e999", "0")]
    public void Numbers_are_plain_decimals_without_redundant_digits(string number, string canonical) =>
        Assert.Equal(canonical, Canonical(number));

    [Fact]
    public void Members_sort_by_their_utf8_bytes_and_the_last_of_duplicates_wins()
    {
        Assert.Equal("{\"Z\":1,\"a\":2,\"z\":3,\"é\":4}", Canonical("{\"é\":4,\"z\":3,\"a\":2,\"Z\":1}"));
        Assert.Equal("{\"a\":2}", Canonical("{\"a\":1,\"a\":2}"));
        Assert.Equal("[3,{\"b\":null,\"c\":[true,false]}]", Canonical(" [ 3 , { \"c\" : [ true , false ] , \"b\" : null } ] "));
    }

    [Fact]
    public void Strings_escape_only_quotes_backslashes_and_control_characters()
    {
        Assert.Equal("\"a\\\"b\\\\c\\u000a\\u001f/é€😀\"", Canonical("\"a\\\"b\\\\c\\n\\u001f\\/\\u00e9€😀\""));
    }

    [Fact]
    public void The_same_value_written_differently_encodes_to_the_same_bytes()
    {
        // What PostgreSQL's jsonb does to a document: keys reordered, spacing changed, numbers rewritten.
        Assert.Equal(
            Canonical("{\"input\":{\"big\":1E3,\"rows\":1.50},\"at\":\"2026-06-13T08:15:02.1234567+00:00\"}"),
            Canonical("{\"at\": \"2026-06-13T08:15:02.1234567+00:00\", \"input\": {\"big\": 1000, \"rows\": 1.50}}"));
    }

    /// <summary>The worked example in docs/ledger.md, byte for byte (its hash as docs/audit.py computes it).</summary>
    [Fact]
    public void The_documented_example_event_encodes_and_hashes_as_the_docs_say()
    {
        var started = new ChainedEvent(
            "20260613-081502-0123456789abcdef", 2, "Started", new DateTimeOffset(2026, 6, 13, 8, 15, 3, 456, TimeSpan.Zero).AddTicks(7890),
            JsonDocument.Parse("{\"run_id\": \"20260613-081502-0123456789abcdef\", \"runner\": \"w1\", \"at\": \"2026-06-13T08:15:03.4567890+00:00\"}").RootElement,
            "ci", "c-1", "r-7");
        var previous = "5a2f0d1c3e4b6a798897a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5";

        var canonical = Encoding.UTF8.GetString(EventChain.Canonical(started));

        Assert.Equal(
            "{\"data\":{\"at\":\"2026-06-13T08:15:03.4567890+00:00\",\"run_id\":\"20260613-081502-0123456789abcdef\",\"runner\":\"w1\"}," +
            "\"metadata\":{\"causation_id\":\"r-7\",\"correlation_id\":\"c-1\",\"user\":\"ci\"}," +
            "\"stream\":\"20260613-081502-0123456789abcdef\",\"timestamp\":\"2026-06-13T08:15:03.456Z\",\"type\":\"Started\",\"version\":2}",
            canonical);
        Assert.Equal(
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(previous + canonical))),
            EventChain.Hash(previous, started));
        Assert.Equal("983aa685f38ce2d7cbf52cdd2ef7c1d27501fda9d620a674fb56668cd1d5f2e7", EventChain.Hash(previous, started));
    }

    [Fact]
    public void Purgeable_error_lines_leave_a_log_batch_hash_as_it_was()
    {
        ChainedEvent Batch(string errors) => new("r", 3, "LogAppended", DateTimeOffset.UnixEpoch,
            JsonDocument.Parse($"{{\"first_line_id\":1,\"last_line_id\":2,\"sha256\":\"ab\",\"error_lines\":{errors}}}").RootElement, null, null, null);

        Assert.Equal(EventChain.Hash("x", Batch("[\"disk full\"]")), EventChain.Hash("x", Batch("[]")));
        Assert.NotEqual(EventChain.Hash("x", Batch("[]")), EventChain.Hash("y", Batch("[]")));
    }

    [Fact]
    public void The_merkle_tree_is_rfc_6962s()
    {
        static byte[] H(params byte[][] parts) => SHA256.HashData(parts.SelectMany(p => p).ToArray());
        var heads = new[] { new RunHead("a", 1, "01"), new RunHead("b", 2, "02"), new RunHead("c", 3, "03") };
        var leaves = heads.Select(h => H([0x00], Encoding.UTF8.GetBytes($"{h.Run} {h.Hash}"))).ToArray();

        Assert.Equal(SHA256.HashData([]), MerkleTree.Root([]));
        Assert.Equal(leaves[0], MerkleTree.Root(heads[..1]));
        Assert.Equal(H([0x01], H([0x01], leaves[0], leaves[1]), leaves[2]), MerkleTree.Root(heads));
    }

    [Fact]
    public void The_checkpoint_statement_is_the_documented_lines()
    {
        var bytes = CheckpointStatement.Bytes(7, new DateTimeOffset(2026, 6, 13, 9, 0, 0, 12, TimeSpan.Zero), 3, "ab", null, "k1");

        Assert.Equal("runs-checkpoint/1\nid 7\nat 2026-06-13T09:00:00.012Z\nruns 3\nroot ab\nprevious_root -\nkey_id k1\n", Encoding.UTF8.GetString(bytes));
    }
}
