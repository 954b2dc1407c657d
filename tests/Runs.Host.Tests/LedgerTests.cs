using System.Globalization;

namespace Runs.Host.Tests;

/// <summary>
/// Checkpoints: a signed Merkle root over every run's head, chained to the one before, that anyone can check
/// with the public key the service lists; and the store checked against the newest one.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class LedgerTests(LedgerHost fixture) : HostSpecification<LedgerHost>(fixture, "runner", [Scopes.RunsRead, Scopes.RunsWrite], admin: "auditor")
{
    private async Task<JsonNode> Get(string url, string? token = null) =>
        await (await Api.Scenario(s => { s.Get.Url(url); s.Bearer(token ?? Admin); })).Json();

    private async Task<JsonNode> Checkpoint() =>
        await (await Api.Scenario(s => { s.Post.Url("/v1/ledger/checkpoints"); s.Bearer(Admin); s.StatusCodeShouldBe(201); })).Json();

    private async Task<List<string>> Runs(int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var run = await Api.TriggerAsync(Token, job: i % 2 == 0 ? "even" : "odd");
            await Api.CommandAsync(Token, run, "start");
            ids.Add((string)run["id"]!);
        }
        return ids;
    }

    private Task Sql(string sql, params object[] args) => Fixture.SqlAsync(sql, args);

    /// <summary>RFC 6962's tree, written again from docs/ledger.md rather than borrowed from the service.</summary>
    private static byte[] Merkle(IReadOnlyList<byte[]> leaves)
    {
        if (leaves.Count == 0)
        {
            return SHA256.HashData([]);
        }
        if (leaves.Count == 1)
        {
            return leaves[0];
        }
        var k = 1;
        while (k * 2 < leaves.Count)
        {
            k *= 2;
        }
        return SHA256.HashData([0x01, .. Merkle([.. leaves.Take(k)]), .. Merkle([.. leaves.Skip(k)])]);
    }

    [Fact]
    public async Task A_checkpoint_commits_to_every_runs_head_and_its_signature_checks_with_the_listed_key()
    {
        var runs = await Runs(3);

        var checkpoint = await Checkpoint();
        var heads = (await Get($"/v1/ledger/checkpoints/{checkpoint["id"]}/heads"))["heads"]!.AsArray();
        var keys = (await Get("/v1/ledger/keys", Token))["keys"]!.AsArray();

        Assert.Equal(3, (int)checkpoint["runs"]!);
        Assert.Null(checkpoint["previous_root"]);
        Assert.Equal(runs.Order(StringComparer.Ordinal), heads.Select(h => (string)h!["run"]!));
        foreach (var head in heads)
        {
            var events = (await Get($"/v1/jobs/{(runs.IndexOf((string)head!["run"]!) % 2 == 0 ? "even" : "odd")}/runs/{head["run"]}/events", Token))["events"]!.AsArray();
            Assert.Equal((string)events[^1]!["hash"]!, (string)head["hash"]!);
        }
        var tree = Merkle([.. heads.Select(h => SHA256.HashData([0x00, .. Encoding.UTF8.GetBytes($"{h!["run"]} {h["hash"]}")]))]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([0x02, .. tree])), (string)checkpoint["root"]!);

        var key = keys.Single(k => (string)k!["id"]! == (string)checkpoint["key_id"]!)!;
        Assert.Equal((RunsHost.SigningKeyId, "ecdsa-p256-sha256", true), ((string)key["id"]!, (string)key["algorithm"]!, (bool)key["current"]!));
        Assert.Equal(Fixture.SigningKey.ExportSubjectPublicKeyInfoPem(), (string)key["public_key_pem"]!);
        Assert.DoesNotContain("PRIVATE", (string)key["public_key_pem"]!);
        using var verifier = ECDsa.Create();
        verifier.ImportFromPem((string)key["public_key_pem"]!);
        var statement = Encoding.UTF8.GetBytes(
            $"runs-checkpoint/1\nid {checkpoint["id"]}\nat {checkpoint["at"]}\nruns 3\nroot {checkpoint["root"]}\nprevious_root -\nkey_id {checkpoint["key_id"]}\n");
        var signature = Convert.FromBase64String((string)checkpoint["signature"]!);
        Assert.True(verifier.VerifyData(statement, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        statement[^2] ^= 1;
        Assert.False(verifier.VerifyData(statement, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task Checkpoints_chain_to_the_one_before_and_page_newest_first()
    {
        await Runs(1);
        var first = await Checkpoint();
        await Runs(1);
        var second = await Checkpoint();
        var third = await Checkpoint();

        Assert.Equal((string)first["root"]!, (string)second["previous_root"]!);
        Assert.Equal((string)second["root"]!, (string)third["previous_root"]!);
        Assert.Equal(2, (int)second["runs"]!);
        Assert.NotEqual((string)second["root"]!, (string)third["root"]!);

        var page = await Get("/v1/ledger/checkpoints?page_size=2");
        Assert.Equal([(long)third["id"]!, (long)second["id"]!], page["checkpoints"]!.AsArray().Select(c => (long)c!["id"]!));
        var rest = await Get($"/v1/ledger/checkpoints?page_size=2&page_token={page["next_page_token"]}");
        Assert.Equal([(long)first["id"]!], rest["checkpoints"]!.AsArray().Select(c => (long)c!["id"]!));
        Assert.Null(rest["next_page_token"]);
        Assert.Equal(first.ToJsonString(), (await Get($"/v1/ledger/checkpoints/{first["id"]}")).ToJsonString());
        Assert.Equal(2, (await Get($"/v1/ledger/checkpoints/{third["id"]}/heads"))["heads"]!.AsArray().Count);
    }

    [Fact]
    public async Task The_store_as_written_verifies_against_the_newest_checkpoint()
    {
        var none = await Get("/v1/ledger/verify");
        Assert.True((bool)none["verified"]!);
        Assert.Null(none["checkpoint"]);

        await Runs(4);
        var checkpoint = await Checkpoint();
        await Runs(1);

        var result = await Get("/v1/ledger/verify");
        Assert.True((bool)result["verified"]!, result.ToJsonString());
        Assert.True(4 == (int)result["runs_checked"]!, result.ToJsonString());
        Assert.Equal((long)checkpoint["id"]!, (long)result["checkpoint"]!["id"]!);
        Assert.Empty(result["problems"]!.AsArray());
    }

    [Fact]
    public async Task A_run_deleted_outright_is_found_and_no_checkpoint_is_written_over_it()
    {
        var runs = await Runs(3);
        await Checkpoint();
        var victim = runs[1];

        await Sql("delete from runs.mt_streams where id = $1", victim);
        await Sql("delete from runs.mt_doc_run where id = $1", victim);
        await Sql("delete from runs.ledger_events where run_id = $1", victim);

        var result = await Get("/v1/ledger/verify");
        Assert.False((bool)result["verified"]!);
        var problem = Assert.Single(result["problems"]!.AsArray())!;
        Assert.Equal(("run_missing", victim), ((string)problem["kind"]!, (string)problem["run"]!));

        var refused = await Api.Scenario(s => { s.Post.Url("/v1/ledger/checkpoints"); s.Bearer(Admin); s.StatusCodeShouldBe(409); });
        var body = await refused.ProblemAsync(409);
        Assert.Contains(body["problems"]!.AsArray(), p => (string)p!["run"]! == victim);
    }

    [Fact]
    public async Task History_rewritten_with_its_chain_passes_the_run_check_but_not_the_checkpoint()
    {
        var runs = await Runs(2);
        await Checkpoint();
        var victim = runs[0];

        // An operator who knows the encoding edits an event and recomputes every link after it.
        await Sql("update runs.mt_events set data = jsonb_set(data, '{runner}', '\"forged\"') where stream_id = $1 and version = 2", victim);
        await Sql("delete from runs.ledger_events where run_id = $1", victim);
        var (exit, output, errors) = await HostCommand.RunAsync(Fixture.ConnectionString, null, "ledger", "chain");
        Assert.True(exit == 0, output + errors);

        var run = await Get($"/v1/jobs/even/runs/{victim}/verify", Token);
        Assert.True((bool)run["verified"]!, run.ToJsonString());
        var result = await Get("/v1/ledger/verify");
        var problem = Assert.Single(result["problems"]!.AsArray())!;
        Assert.Equal(("head_changed", victim, 2), ((string)problem["kind"]!, (string)problem["run"]!, (int)problem["version"]!));
    }

    [Fact]
    public async Task An_edited_checkpoint_no_longer_holds()
    {
        await Runs(2);
        var checkpoint = await Checkpoint();

        await Sql("update runs.ledger_checkpoint_heads set hash = repeat('0', 64) where checkpoint_id = $1 and run_id = (select min(run_id) from runs.ledger_checkpoint_heads)", (long)checkpoint["id"]!);

        var problems = (await Get("/v1/ledger/verify"))["problems"]!.AsArray();
        Assert.Contains(problems, p => (string)p!["kind"]! == "checkpoint_changed");
    }

    [Fact]
    public async Task A_development_host_without_a_checkpoint_key_makes_one_and_keeps_it()
    {
        var secrets = Directory.CreateTempSubdirectory("runs-user-secrets-").FullName;
        try
        {
            var settings = new Dictionary<string, string?>
            {
                ["Runs__Ledger__CurrentSigningKeyId"] = null,
                ["Runs__Ledger__SigningKeys__cli"] = null,
                ["HOME"] = secrets,
                ["APPDATA"] = secrets,
            };

            var first = await HostProcess.RunAsync(Fixture.ConnectionString, settings, "ledger", "checkpoint");
            var second = await HostProcess.RunAsync(Fixture.ConnectionString, settings, "ledger", "checkpoint");

            Assert.True(first.Exit == 0, first.Output + first.Errors);
            Assert.Contains("no Runs:Ledger:CurrentSigningKeyId configured; made a local key", first.Errors);
            Assert.True(second.Exit == 0, second.Output + second.Errors);
            Assert.DoesNotContain("made a local key", second.Errors);
            Assert.Contains("key_id local", second.Output);
            // Both checkpoints were signed with the same kept key: the second one's check passes the first's signature.
            var verify = await HostProcess.RunAsync(Fixture.ConnectionString, settings, "ledger", "verify");
            Assert.True(verify.Exit == 0, verify.Output + verify.Errors);
        }
        finally
        {
            Directory.Delete(secrets, recursive: true);
        }
    }

    [Fact]
    public async Task Outside_development_the_service_refuses_to_start_without_a_checkpoint_key()
    {
        var refusal = await HostProcess.RefusalToStartAsync(Fixture.ConnectionString, new Dictionary<string, string?>
        {
            ["Runs__Ledger__CurrentSigningKeyId"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });
        Assert.Contains("Runs:Ledger:CurrentSigningKeyId is required", refusal);
    }

    [Fact]
    public async Task Checkpoints_and_the_ledger_check_need_admin_and_the_keys_any_token()
    {
        foreach (var (method, url) in new[] { ("GET", "/v1/ledger/checkpoints"), ("POST", "/v1/ledger/checkpoints"), ("GET", "/v1/ledger/verify") })
        {
            await Api.Scenario(s =>
            {
                if (method == "GET") { s.Get.Url(url); } else { s.Post.Url(url); }
                s.Bearer(Token);
                s.StatusCodeShouldBe(403);
            });
        }
        await Api.Scenario(s => { s.Get.Url("/v1/ledger/keys"); s.Bearer(Token); s.StatusCodeShouldBe(200); });
        await Api.Scenario(s => { s.Get.Url("/v1/ledger/checkpoints?page_token=bogus"); s.Bearer(Admin); s.StatusCodeShouldBe(400); });
        await Api.Scenario(s => { s.Get.Url("/v1/ledger/checkpoints/999"); s.Bearer(Admin); s.StatusCodeShouldBe(404); });
    }
}
