
namespace Runs.Host.Tests;

/// <summary>The commands the README documents, run as a user runs them.</summary>
[Collection(DefaultCollection.Name)]
public sealed class CommandLineTests(DefaultHost fixture)
{
    // The framework's discovery chatter, unrendered Spectre markup and terminal escapes.
    private static readonly string[] Noise = ["Searching '", "for commands", "Cannot override", "[/]", "[purple]", "[gray]", "\u001b["];

    public static TheoryData<string> Documented => ["tokens", "retention", "verify", "ledger", "ledger-checkpoint", "export", "import", "db-apply", "db-assert", "db-dump", "projections", "codegen", "describe", "resources"];

    [Fact]
    public async Task Help_lists_every_documented_command_cleanly()
    {
        var (exit, output, errors) = await HostCommand.RunAsync(fixture.ConnectionString, null, "help");

        Assert.Equal(0, exit);
        AssertClean(output + errors);
        foreach (var command in Documented)
        {
            Assert.Contains($"  {command} ", output);
        }
    }

    [Theory]
    [MemberData(nameof(Documented))]
    public async Task Every_documented_command_explains_itself_with_help(string command)
    {
        var (exit, output, errors) = await HostCommand.RunAsync(fixture.ConnectionString, null, command, "--help");

        Assert.Equal(0, exit);
        AssertClean(output + errors);
        Assert.Contains($"dotnet run -- {command}", output);
    }

    [Theory]
    [InlineData("tokens", "list")]
    [InlineData("retention", "sweep", "--dry-run")]
    [InlineData("projections", "list")]
    [InlineData("db-assert")]
    public async Task Commands_print_only_what_they_report(params string[] args)
    {
        var (exit, output, errors) = await HostCommand.RunAsync(fixture.ConnectionString, null, args);

        Assert.True(exit == 0, output + errors);
        AssertClean(output + errors);
    }

    [Fact]
    public async Task A_development_host_without_a_secret_key_says_what_it_did_and_works()
    {
        var secrets = Path.Combine(Path.GetTempPath(), $"runs-user-secrets-{Guid.NewGuid():N}");
        try
        {
            var settings = new Dictionary<string, string?>
            {
                // No key configured, and a user-secrets store in a folder of the test's own.
                ["Runs__Secrets__CurrentKeyId"] = null,
                ["Runs__Secrets__Keys__cli"] = null,
                ["HOME"] = secrets,
                ["APPDATA"] = secrets,
            };

            var (exit, output, errors) = await HostProcess.RunAsync(fixture.ConnectionString, settings, "tokens", "list");
            Assert.True(exit == 0, output + errors);
            Assert.Contains("made a local key", errors);

            var (again, _, quiet) = await HostProcess.RunAsync(fixture.ConnectionString, settings, "tokens", "list");
            Assert.Equal(0, again);
            Assert.DoesNotContain("made a local key", quiet);
        }
        finally
        {
            if (Directory.Exists(secrets))
            {
                Directory.Delete(secrets, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Outside_development_the_service_refuses_to_start_without_a_secret_key()
    {
        var refusal = await HostProcess.RefusalToStartAsync(fixture.ConnectionString, new Dictionary<string, string?>
        {
            ["Runs__Secrets__CurrentKeyId"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });
        Assert.Contains("Runs:Secrets:CurrentKeyId is required", refusal);
        Assert.DoesNotContain("Unhandled exception", refusal);
    }

    [Fact]
    public async Task A_stale_node_time_out_that_would_take_live_hosts_for_dead_is_refused_at_start()
    {
        var refusal = await HostProcess.RefusalToStartAsync(fixture.ConnectionString, new Dictionary<string, string?>
        {
            ["Runs__Durability__HeartbeatInterval"] = "00:00:01",
            ["Runs__Durability__StaleNodeTimeout"] = "00:00:01",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });
        Assert.Contains("Runs:Durability:StaleNodeTimeout must be at least twice Runs:Durability:HeartbeatInterval", refusal);
    }

    [Fact]
    public async Task A_host_told_not_to_migrate_at_start_leaves_an_empty_database_be_and_says_to_run_db_apply()
    {
        var empty = await TestDatabase.EnsureAsync("unmigrated");

        var refusal = await HostProcess.RefusalToStartAsync(empty, new Dictionary<string, string?>
        {
            ["Runs__Database__ApplySchemaOnStart"] = "false",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });

        Assert.Contains("run `db-apply` before starting", refusal);
        await using var connection = new NpgsqlConnection(empty);
        await connection.OpenAsync();
        await using var tables = new NpgsqlCommand("select count(*) from information_schema.tables where table_schema = 'runs'", connection);
        Assert.Equal(0L, await tables.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_host_told_not_to_migrate_at_start_serves_a_database_db_apply_prepared()
    {
        await using var host = new PreparedHost();
        await host.InitializeAsync();
        var token = await host.TokenAsync("runner", [Scopes.RunsRead, Scopes.RunsWrite]);

        var run = await host.Host.TriggerAsync(token);
        await host.Host.CommandAsync(token, run, "start");
        await host.Host.Scenario(s =>
        {
            s.Post.Json(new { lines = new[] { new { level = "info", message = "prepared" } } }).ToUrl($"{run["uri"]}/log");
            s.Bearer(token);
        });
        // A terminal event puts a message on Wolverine's outbox: its tables came from db-apply too.
        await host.Host.CommandAsync(token, run, "succeed");

        var log = await (await host.Host.Scenario(s => { s.Get.Url($"{run["uri"]}/log"); s.Bearer(token); })).ReadAsTextAsync();
        Assert.EndsWith("INFO prepared\n", log);
    }

    /// <summary>A host on a database <c>db-apply</c> made, told not to migrate at start, as bench/host.sh deploys one.</summary>
    private sealed class PreparedHost : RunsHost, IAsyncDisposable
    {
        protected override string DatabaseSuffix => "prepared";

        protected override async Task<string> DatabaseAsync()
        {
            var database = await TestDatabase.EnsureAsync(DatabaseSuffix);
            var (exit, output, errors) = await HostCommand.RunAsync(database, null, "db-apply");
            Assert.True(exit == 0, output + errors);
            return database;
        }

        protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) =>
            builder.UseSetting("Runs:Database:ApplySchemaOnStart", "false");

        ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());
    }

    private static void AssertClean(string text)
    {
        foreach (var noise in Noise)
        {
            Assert.False(text.Contains(noise, StringComparison.Ordinal), $"'{noise}' in:\n{text}");
        }
    }
}
