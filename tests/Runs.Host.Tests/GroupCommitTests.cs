using System.Net.Http.Json;

namespace Runs.Host.Tests;

/// <summary>Log appends arriving together commit together (docs/architecture.md, "Group commit").</summary>
[Collection(DefaultCollection.Name)]
public sealed class GroupCommitTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "runner", [Scopes.RunsRead, Scopes.RunsWrite])
{
    private async Task<JsonNode> RunningRun()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start", new { runner = "r1" });
        return run;
    }

    private Task<HttpResponseMessage> Append(JsonNode run, params string[] messages) =>
        Client.PostAsJsonAsync($"{run["uri"]}/log", new { lines = messages.Select(m => new { level = "info", message = m }) });

    [Fact]
    public async Task Concurrent_appends_to_one_run_get_gap_free_ids_and_each_answer_names_its_own_lines()
    {
        var run = await RunningRun();

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Append(run, $"{i}.a", $"{i}.b", $"{i}.c")));

        var ranges = new List<(int First, int Last, int Request)>();
        for (var i = 0; i < answers.Length; i++)
        {
            Assert.Equal(HttpStatusCode.OK, answers[i].StatusCode);
            var answer = JsonNode.Parse(await answers[i].Content.ReadAsStringAsync())!;
            ranges.Add(((int)answer["first_id"]!, (int)answer["last_id"]!, i));
        }
        var stored = await (await Client.GetAsync($"{run["uri"]}/log")).Content.ReadAsStringAsync();
        var lines = stored.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(120, lines.Length);
        // The answers' ranges tile 1..120, and each range holds the lines its own request sent, in order.
        Assert.Equal(Enumerable.Range(1, 120), ranges.OrderBy(r => r.First).SelectMany(r => Enumerable.Range(r.First, r.Last - r.First + 1)));
        foreach (var (first, _, request) in ranges)
        {
            Assert.Equal([$"{request}.a", $"{request}.b", $"{request}.c"], lines[(first - 1)..(first + 2)].Select(l => l.Split(' ')[^1]));
        }
    }

    [Fact]
    public async Task Appends_queued_behind_a_commit_share_the_next()
    {
        var run = await RunningRun();
        await using var database = await DatabaseWhere.SlowAndPoisonedAsync(Fixture);

        var (slow, answers) = await BehindASlowAppendAsync(run, database, Enumerable.Range(0, 20).Select(i => $"n{i}"));

        Assert.Equal(HttpStatusCode.OK, slow.StatusCode);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        // The twenty that waited behind the slow one were committed in fewer transactions than appends.
        Assert.InRange(await database.CommitsOfAsync("n%"), 1, 10);
    }

    [Fact]
    public async Task An_append_that_fails_in_a_group_fails_alone()
    {
        var run = await RunningRun();
        await using var database = await DatabaseWhere.SlowAndPoisonedAsync(Fixture);

        var (slow, answers) = await BehindASlowAppendAsync(run, database, Enumerable.Range(0, 20).Select(i => i == 7 ? database.Poison : $"n{i}"));

        Assert.Equal(HttpStatusCode.OK, slow.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, answers[7].StatusCode);
        Assert.All(answers.Where((_, i) => i != 7), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var stored = await (await Client.GetAsync($"{run["uri"]}/log")).Content.ReadAsStringAsync();
        var messages = stored.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[^1]).ToList();
        Assert.Equal(20, messages.Count);
        Assert.DoesNotContain(database.Poison, messages);
        // The poisoned append's ids went to the next one: still gap-free.
        Assert.Equal(20L, await Fixture.SqlAsync("select count(*) from runs.log_lines where run_id = $1 and line_id between 1 and 20", (string)run["id"]!));
    }

    [Fact]
    public async Task An_append_that_fails_on_its_own_leaves_its_run_writable()
    {
        var run = await RunningRun();
        await using var database = await DatabaseWhere.SlowAndPoisonedAsync(Fixture);

        var poisoned = await Append(run, database.Poison);
        var next = await Append(run, "after");

        Assert.NotEqual(HttpStatusCode.OK, poisoned.StatusCode);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(1, (int)JsonNode.Parse(await next.Content.ReadAsStringAsync())!["first_id"]!);
    }

    [Fact]
    public async Task A_client_that_goes_away_while_its_append_waits_does_not_stop_the_others()
    {
        var run = await RunningRun();
        await using var database = await DatabaseWhere.SlowAndPoisonedAsync(Fixture);

        var slow = Append(run, database.Slow);
        await WaitForLockedRunAsync();
        using var leaving = new CancellationTokenSource();
        var abandoned = Client.PostAsJsonAsync($"{run["uri"]}/log", new { lines = new[] { new { level = "info", message = "abandoned" } } }, leaving.Token);
        var staying = Enumerable.Range(0, 5).Select(i => Append(run, $"s{i}")).ToList();
        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);

        Assert.Equal(HttpStatusCode.OK, (await slow).StatusCode);
        Assert.All(await Task.WhenAll(staying), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(HttpStatusCode.OK, (await Append(run, "later")).StatusCode);
    }

    [Fact]
    public async Task A_large_append_is_copied_in_and_reads_back_whole_and_in_order()
    {
        var run = await RunningRun();
        await using var database = await DatabaseWhere.SlowAndPoisonedAsync(Fixture);
        // More lines than Runs:Logs:CopyFromLines, each naming its place.
        var messages = Enumerable.Range(1, DefaultHost.CopyFromLines + 200).Select(i => $"big-{i}-{database.Marker}").ToArray();

        var small = await Append(run, $"small-{database.Marker}");
        var large = await Append(run, messages);

        Assert.Equal(HttpStatusCode.OK, large.StatusCode);
        var answer = JsonNode.Parse(await large.Content.ReadAsStringAsync())!;
        Assert.Equal((messages.Length, 2, messages.Length + 1), ((int)answer["appended"]!, (int)answer["first_id"]!, (int)answer["last_id"]!));
        var stored = await (await Client.GetAsync($"{run["uri"]}/log")).Content.ReadAsStringAsync();
        Assert.Equal([$"small-{database.Marker}", .. messages], stored.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[^1]));
        Assert.Equal("copy", await database.StatementsOfAsync("big-%"));
        Assert.DoesNotContain("copy", await database.StatementsOfAsync("small-%"));
        // Copied lines are searchable like any others.
        var found = JsonNode.Parse(await (await Client.GetAsync($"/v1/jobs/{run["job"]}/logs/search?q=big-777-{database.Marker}")).Content.ReadAsStringAsync())!;
        Assert.Equal(778, (int)found["matches"]!.AsArray().Single()!["line"]!["id"]!);
    }

    [Fact]
    public async Task Appends_grouped_past_the_copy_threshold_share_one_copy()
    {
        var run = await RunningRun();
        await using var database = await DatabaseWhere.SlowAndPoisonedAsync(Fixture);
        // Twenty appends of a hundred lines: alone each is inserted, together they pass the threshold (1,000).
        var batches = Enumerable.Range(0, 20).Select(i => Enumerable.Range(0, 100).Select(j => $"n{i}-{j}").ToArray()).ToList();

        var slow = Append(run, database.Slow);
        await WaitForLockedRunAsync();
        var answers = await Task.WhenAll(batches.Select(b => Append(run, b)));

        Assert.Equal(HttpStatusCode.OK, (await slow).StatusCode);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Contains("copy", await database.StatementsOfAsync("n%"));
        var stored = (await (await Client.GetAsync($"{run["uri"]}/log")).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2001, stored.Length);
        for (var i = 0; i < answers.Length; i++)
        {
            var first = (int)JsonNode.Parse(await answers[i].Content.ReadAsStringAsync())!["first_id"]!;
            Assert.Equal(batches[i], stored[(first - 1)..(first + 99)].Select(l => l.Split(' ')[^1]));
        }
    }

    /// <summary>A slow append, then one append per message sent while it holds its transaction open.</summary>
    private async Task<(HttpResponseMessage Slow, HttpResponseMessage[] Queued)> BehindASlowAppendAsync(JsonNode run, DatabaseWhere database, IEnumerable<string> messages)
    {
        var slow = Append(run, database.Slow);
        await WaitForLockedRunAsync();
        var queued = await Task.WhenAll(messages.Select(m => Append(run, m)));
        return (await slow, queued);
    }

    /// <summary>Until the slow append holds its run's row lock (it sleeps inside its transaction).</summary>
    private async Task WaitForLockedRunAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((long)(await Fixture.SqlAsync("select count(*) from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'"))! == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the slow append never reached the database");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// A trigger on the log lines table: it holds the line <see cref="Slow"/> half a second, refuses the line
    /// <see cref="Poison"/>, and notes which transaction stored each line (its top-level id) and by which
    /// statement (its first word: an insert or a copy).
    /// </summary>
    private sealed class DatabaseWhere(DefaultHost host, string marker) : IAsyncDisposable
    {
        public string Marker => marker;
        public string Slow => $"slow-{marker}";
        public string Poison => $"poison-{marker}";

        public static async Task<DatabaseWhere> SlowAndPoisonedAsync(DefaultHost host)
        {
            var marker = Guid.NewGuid().ToString("N");
            await host.SqlAsync($"""
                create table runs.group_commit_test_{marker} (message text, tx bigint, statement text);
                create function runs.group_commit_test_{marker}() returns trigger language plpgsql as $$
                begin
                  if new.message = 'slow-{marker}' then perform pg_sleep(0.5); end if;
                  if new.message = 'poison-{marker}' then raise exception 'poisoned line'; end if;
                  insert into runs.group_commit_test_{marker} values (new.message, txid_current(), lower(split_part(ltrim(current_query()), ' ', 1)));
                  return new;
                end $$;
                create trigger group_commit_test_{marker} before insert on runs.log_lines
                  for each row execute function runs.group_commit_test_{marker}();
                """);
            return new DatabaseWhere(host, marker);
        }

        public async Task<long> CommitsOfAsync(string messages) =>
            (long)(await host.SqlAsync($"select count(distinct tx) from runs.group_commit_test_{marker} where message like $1", messages))!;

        /// <summary>The statements that stored these lines, comma-separated in order.</summary>
        public async Task<string> StatementsOfAsync(string messages) =>
            (string)(await host.SqlAsync($"select string_agg(distinct statement, ',' order by statement) from runs.group_commit_test_{marker} where message like $1", messages))!;

        public async ValueTask DisposeAsync() =>
            await host.SqlAsync($"drop trigger group_commit_test_{marker} on runs.log_lines; drop function runs.group_commit_test_{marker}(); drop table runs.group_commit_test_{marker};");
    }
}
