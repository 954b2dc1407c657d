
namespace Runs.Host.Tests;

/// <summary>
/// runs-export/1 out of this host's database and, with the command line as an operator runs it, into another:
/// the same runs, byte for byte, verifying there; a second import changes nothing; a damaged file changes nothing.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class ExportImportTests(LedgerHost fixture) : HostSpecification<LedgerHost>(fixture, "runner", [Scopes.RunsRead, Scopes.RunsWrite], admin: "operator")
{
    private readonly string _folder = Directory.CreateTempSubdirectory("runs-export-").FullName;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.FreshImportDatabaseAsync();
    }

    public override Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return base.DisposeAsync();
    }

    private string Path(string name) => System.IO.Path.Combine(_folder, name);

    /// <summary>A run with input, a secret, log lines (an internal one), telemetry and output; another job's run; a purged run.</summary>
    private async Task<(string Run, string Other, string Purged)> Seed()
    {
        var purged = await RunWithEverything("nightly");
        Api.AdvanceClock(TimeSpan.FromSeconds(1.2));
        Assert.Contains(await Api.Services.GetRequiredService<RetentionSweep>().SweepAsync(), p => p.Id == purged);
        var run = await RunWithEverything("nightly");
        var other = (string)(await Api.TriggerAsync(Token, job: "other"))["id"]!;
        return (run, other, purged);
    }

    private async Task<string> RunWithEverything(string job)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("{\"input\":{\"n\":1.50,\"deep\":[{\"x\":1E2}]},\"env\":[{\"key\":\"TOKEN\",\"value\":\"hunter2\",\"secret\":true}],\"labels\":{\"team\":\"data\"}}"), "run" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("input bytes é")), "files", "in.txt" },
        };
        var run = JsonNode.Parse(await (await Client.PostAsync($"/v1/jobs/{job}/runs", form)).Content.ReadAsStringAsync())!;
        await Api.CommandAsync(Token, run, "start", new { runner = "w1" });
        await Api.Scenario(s =>
        {
            s.Post.Json(new
            {
                lines = new object[]
                {
                    new { level = "info", message = "using hunter2 \u001f\t\"quoted\"" },
                    new { level = "error", message = "failed once" },
                    new { level = "debug", message = "internal detail", @internal = true },
                },
            }).ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
        });
        await Api.Scenario(s => { s.Post.Json(new { summary = new { rows = 3 }, samples = new[] { new { cpu = 0.25 } } }).ToUrl($"{run["uri"]}/telemetry"); s.Bearer(Token); });
        var bytes = new byte[RunsHostBytes];
        new Random(7).NextBytes(bytes);
        var output = new ByteArrayContent(bytes);
        output.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = "out.bin" };
        output.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Assert.True((await Client.PutAsync($"{run["uri"]}/output", output)).IsSuccessStatusCode);
        await Api.CommandAsync(Token, run, "fail", new { error_summary = "it broke", exit_code = 2 });
        return (string)run["id"]!;
    }

    /// <summary>More than one 1 MiB chunk.</summary>
    private const int RunsHostBytes = 1024 * 1024 + 4321;

    /// <summary>Everything stored of the runs, as text, in an order both databases agree on.</summary>
    private static async Task<List<string>> Stored(string connectionString)
    {
        string[] queries =
        [
            "select stream_id, version, id, type, timestamp, data, user_name, correlation_id, causation_id from runs.mt_events order by stream_id, version",
            "select run_id, version, hash, previous_hash from runs.ledger_events order by run_id, version",
            "select run_id, line_id, at, level, message, internal from runs.log_lines order by run_id, line_id",
            "select f.run_id, f.kind, f.name, f.content_type, f.size, f.sha256, md5(string_agg(c.data, ''::bytea order by c.seq)) from runs.run_files f left join runs.run_file_chunks c on c.blob_id = f.blob_id group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3",
            "select id, data from runs.mt_doc_run order by id",
            "select id, data from runs.mt_doc_telemetryseries order by id",
        ];
        var rows = new List<string>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var sql in queries)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            }
        }
        return rows;
    }

    private static async Task<long> Scalar(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private Task<(int Exit, string Output, string Errors)> Cli(string connectionString, params string[] args) =>
        HostCommand.RunAsync(connectionString, null, args);

    [Fact]
    public async Task An_exported_job_imported_into_another_database_is_the_same_and_verifies_there()
    {
        var (run, other, purged) = await Seed();
        var file = Path("nightly.ndjson");

        var export = await Cli(Fixture.ConnectionString, "export", "--job", "nightly", "--out", file);
        Assert.True(export.Exit == 0, export.Output + export.Errors);
        Assert.Equal("", export.Output);
        Assert.Contains("exporting 2 runs", export.Errors);

        var import = await Cli(Fixture.ImportConnectionString, "import", file);
        Assert.True(import.Exit == 0, import.Output + import.Errors);
        Assert.Contains($"{run} imported", import.Output);
        Assert.Contains($"{purged} imported", import.Output);
        Assert.DoesNotContain(other, import.Output);
        // The secret travelled sealed with this host's key, which the importing instance does not have.
        Assert.Contains("sealed with key 'test'", import.Output);
        Assert.Contains("importing runs", import.Errors);

        var source = await Stored(Fixture.ConnectionString);
        Assert.Equal(source.Where(r => !r.Contains(other)), await Stored(Fixture.ImportConnectionString));
        var verify = await Cli(Fixture.ImportConnectionString, "verify");
        Assert.True(verify.Exit == 0, verify.Output + verify.Errors);
        Assert.Equal("", verify.Output);
        Assert.Contains("2 runs checked: every one verified", verify.Errors);

        var events = await Scalar(Fixture.ImportConnectionString, "select max(seq_id) from runs.mt_events");
        var again = await Cli(Fixture.ImportConnectionString, "import", file);
        Assert.True(again.Exit == 0, again.Output + again.Errors);
        Assert.Contains($"{run} unchanged", again.Output);
        Assert.Equal(events, await Scalar(Fixture.ImportConnectionString, "select max(seq_id) from runs.mt_events"));
        Assert.Equal(source.Where(r => !r.Contains(other)), await Stored(Fixture.ImportConnectionString));
    }

    public static TheoryData<string> Damage => ["a log line's text", "an event's data", "a file's bytes", "the last line", "a line that is not JSON"];

    [Theory]
    [MemberData(nameof(Damage))]
    public async Task A_file_that_fails_its_own_hashes_is_refused_whole(string damage)
    {
        await Seed();
        var file = Path("all.ndjson");
        Assert.Equal(0, (await Cli(Fixture.ConnectionString, "export", "--all", "--out", file)).Exit);
        var lines = (await File.ReadAllLinesAsync(file)).ToList();
        var last = lines.FindLastIndex(l => l.Contains(damage switch
        {
            "a log line's text" => "\"record\":\"log_line\"",
            "an event's data" => "\"type\":\"Started\"",
            "a file's bytes" => "\"record\":\"chunk\"",
            _ => "\"record\"",
        }));
        lines[last] = damage switch
        {
            "a log line's text" => lines[last].Replace("failed once", "failed twice").Replace("internal detail", "internal datail"),
            "an event's data" => lines[last].Replace("\"w1\"", "\"w2\""),
            "a file's bytes" => FlipFirstByte(lines[last]),
            "a line that is not JSON" => lines[last][..^1],
            _ => lines[last],
        };
        if (damage == "the last line")
        {
            lines.RemoveAt(lines.Count - 1);
        }
        await File.WriteAllLinesAsync(file, lines);

        var import = await Cli(Fixture.ImportConnectionString, "import", file);

        Assert.Equal(1, import.Exit);
        Assert.Contains("is refused, nothing was imported", import.Errors);
        Assert.NotEqual("", import.Output.Trim());
        Assert.Equal(0, await Scalar(Fixture.ImportConnectionString, "select count(*) from pg_tables where schemaname = 'runs'"));
    }

    [Fact]
    public async Task A_run_already_there_with_other_content_is_reported_and_left_alone()
    {
        var (run, _, _) = await Seed();
        var file = Path("run.ndjson");
        Assert.Equal(0, (await Cli(Fixture.ConnectionString, "export", "--run", run, "--out", file)).Exit);
        Assert.Equal(0, (await Cli(Fixture.ImportConnectionString, "import", file)).Exit);
        await using (var connection = new NpgsqlConnection(Fixture.ImportConnectionString))
        {
            await connection.OpenAsync();
            await using var edit = new NpgsqlCommand($"delete from runs.log_lines where run_id = '{run}' and line_id = 1", connection);
            await edit.ExecuteNonQueryAsync();
        }
        var before = await Stored(Fixture.ImportConnectionString);

        var again = await Cli(Fixture.ImportConnectionString, "import", file);

        Assert.Equal(1, again.Exit);
        Assert.Contains($"{run} differs", again.Output);
        Assert.Equal(before, await Stored(Fixture.ImportConnectionString));
    }

    [Theory]
    [InlineData("--job", "nothing-here", "error: no job 'nothing-here'.")]
    [InlineData("--run", "20260101-000000-0000000000000000", "error: no run '20260101-000000-0000000000000000'.")]
    public async Task Exporting_a_job_or_run_that_does_not_exist_fails_and_writes_no_file(string flag, string name, string error)
    {
        var file = Path("nothing.ndjson");

        var export = await Cli(Fixture.ConnectionString, "export", flag, name, "--out", file);

        Assert.Equal(1, export.Exit);
        Assert.Contains(error, export.Errors);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task An_export_without_a_file_writes_the_same_records_to_standard_output_and_nothing_else()
    {
        var (run, _, _) = await Seed();
        var file = Path("run.ndjson");
        Assert.Equal(0, (await Cli(Fixture.ConnectionString, "export", "--run", run, "--out", file)).Exit);

        // A process of its own: `export > file` is about the bytes on the process's standard output, which a
        // command run in this process writes past the captured console.
        var (exit, output, errors) = await HostProcess.RunAsync(Fixture.ConnectionString, null, "export", "--run", run);

        Assert.True(exit == 0, output + errors);
        var piped = output.TrimEnd('\n').Split('\n');
        Assert.Equal("runs-export/1", (string)JsonNode.Parse(piped[0])!["format"]!);
        Assert.Equal((await File.ReadAllLinesAsync(file))[1..], piped[1..]);
        Assert.Contains("exporting 1 runs", errors);
    }

    [Fact]
    public async Task Exports_over_http_stream_the_same_records_and_need_admin()
    {
        var (run, _, _) = await Seed();
        var file = Path("run.ndjson");
        Assert.Equal(0, (await Cli(Fixture.ConnectionString, "export", "--run", run, "--out", file)).Exit);

        var response = await Api.Scenario(s => { s.Get.Url($"/v1/jobs/nightly/runs/{run}/export"); s.Bearer(Admin); });
        var job = await Api.Scenario(s => { s.Get.Url("/v1/jobs/nightly/export"); s.Bearer(Admin); });
        var all = await Api.Scenario(s => { s.Get.Url("/v1/export"); s.Bearer(Admin); });

        Assert.Equal("application/x-ndjson", response.Context.Response.ContentType);
        var http = (await response.ReadAsTextAsync()).TrimEnd('\n').Split('\n');
        var cli = await File.ReadAllLinesAsync(file);
        Assert.Equal("runs-export/1", (string)JsonNode.Parse(http[0])!["format"]!);
        Assert.Equal(cli[1..], http[1..]);
        Assert.Equal(2, (int)JsonNode.Parse((await job.ReadAsTextAsync()).TrimEnd('\n').Split('\n')[^1])!["runs"]!);
        Assert.Equal(3, (int)JsonNode.Parse((await all.ReadAsTextAsync()).TrimEnd('\n').Split('\n')[^1])!["runs"]!);
        await Api.Scenario(s => { s.Get.Url($"/v1/jobs/nightly/runs/{run}/export"); s.Bearer(Token); s.StatusCodeShouldBe(403); });
        await Api.Scenario(s => { s.Get.Url("/v1/jobs/nothing-here/export"); s.Bearer(Admin); s.StatusCodeShouldBe(404); });
    }

    [Fact]
    public async Task The_auditors_script_in_docs_checks_an_export_and_a_checkpoint_on_its_own()
    {
        await Seed();
        var file = Path("all.ndjson");
        Assert.Equal(0, (await Cli(Fixture.ConnectionString, "export", "--all", "--out", file)).Exit);
        var checkpoint = await (await Api.Scenario(s => { s.Post.Url("/v1/ledger/checkpoints"); s.Bearer(Admin); s.StatusCodeShouldBe(201); })).Json();
        var heads = await Api.Scenario(s => { s.Get.Url($"/v1/ledger/checkpoints/{checkpoint["id"]}/heads"); s.Bearer(Admin); });
        var key = (await (await Api.Scenario(s => { s.Get.Url("/v1/ledger/keys"); s.Bearer(Token); })).Json())["keys"]!.AsArray()
            .Single(k => (string)k!["id"]! == (string)checkpoint["key_id"]!)!;
        await File.WriteAllTextAsync(Path("checkpoint.json"), checkpoint.ToJsonString());
        await File.WriteAllTextAsync(Path("heads.json"), await heads.ReadAsTextAsync());
        await File.WriteAllTextAsync(Path("key.pem"), (string)key["public_key_pem"]!);
        await File.WriteAllBytesAsync(Path("signature.der"), Convert.FromBase64String((string)checkpoint["signature"]!));

        var (exit, output, errors) = await Run("python3", Script, file, "--checkpoint", Path("checkpoint.json"), "--heads", Path("heads.json"), "--statement", Path("statement.txt"));
        Assert.True(exit == 0, output + errors);
        Assert.Contains("3 runs checked, all verified", errors);
        var openssl = await Run("openssl", "dgst", "-sha256", "-verify", Path("key.pem"), "-signature", Path("signature.der"), Path("statement.txt"));
        Assert.True(openssl.Exit == 0, openssl.Output + openssl.Errors);
        Assert.Contains("Verified OK", openssl.Output);

        var lines = await File.ReadAllLinesAsync(file);
        var edited = lines.Select(l => l.Replace("failed once", "failed twice")).ToArray();
        await File.WriteAllLinesAsync(Path("edited.ndjson"), edited);
        var tampered = await Run("python3", Script, Path("edited.ndjson"));
        Assert.Equal(1, tampered.Exit);
        Assert.Contains("do not match its sha256", tampered.Output);
    }

    private static string FlipFirstByte(string chunk)
    {
        var record = JsonNode.Parse(chunk)!;
        var bytes = Convert.FromBase64String((string)record["data"]!);
        bytes[0] ^= 0xff;
        record["data"] = Convert.ToBase64String(bytes);
        return record.ToJsonString();
    }

    private static string Script
    {
        get
        {
            var folder = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(System.IO.Path.Combine(folder.FullName, "Runs.sln")))
            {
                folder = folder.Parent!;
            }
            return System.IO.Path.Combine(folder.FullName, "docs", "audit.py");
        }
    }

    private static async Task<(int Exit, string Output, string Errors)> Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }
}
