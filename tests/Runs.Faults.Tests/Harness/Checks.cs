using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Npgsql;

namespace Runs.Faults.Tests.Harness;

/// <summary>The promises every fault scenario checks once the load has stopped.</summary>
public static class Checks
{
    public static async Task SubscribeAsync(string host, string token, string receiverUrl)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var answer = await http.PostAsJsonAsync(host + "/v1/webhooks",
            new { url = receiverUrl, events = new[] { "run.succeeded", "run.failed", "run.canceled", "run.rejected" } });
        Assert.True(answer.IsSuccessStatusCode, $"subscribing answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
    }

    /// <summary>Waits (bounded: a hang guard, not a timing assertion) until every ended run has reached the receiver.</summary>
    public static async Task WaitForDeliveriesAsync(Ledger ledger, HookReceiver receiver, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < until)
        {
            var delivered = receiver.Received.Select(h => h.Run).ToHashSet();
            if (ledger.Runs.Values.Where(r => r.Terminal is not null).All(r => delivered.Contains(r.Id)))
            {
                return;
            }
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Every acknowledged write is stored, no retried trigger made a second run, no retried append a second
    /// copy of its lines, no request answered 500, and every ended run reached the receiver under exactly one
    /// webhook-id. Answers a line of figures.
    /// </summary>
    public static async Task<string> VerifyAsync(Deployment deployment, Ledger ledger, HookReceiver receiver, params HostProcess[] hosts)
    {
        Assert.True(ledger.ServerErrors.IsEmpty,
            $"{ledger.ServerErrors.Count} answers were 500, e.g. {ledger.ServerErrors.FirstOrDefault()}\n" +
            string.Join('\n', hosts.Select(h => $"--- errors host {h.Name} logged:\n{h.Failures}")));
        Assert.True(ledger.KeyMismatches.IsEmpty, $"{ledger.KeyMismatches.Count} Idempotency-Keys were acknowledged twice");
        Assert.Equal(ledger.RunByKey.Count, ledger.RunByKey.Values.Distinct().Count());

        var stored = new Dictionary<string, (string Status, long Lines)>();
        await using (var connection = new NpgsqlConnection(deployment.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "select d.id, d.status, (select count(*) from runs.log_lines l where l.run_id = d.id) from runs.mt_doc_run d where d.job = $1",
                connection)
            {
                Parameters = { new() { Value = Load.Job } },
            };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                stored[reader.GetString(0)] = (reader.GetString(1), reader.GetInt64(2));
            }
        }

        // One run per acknowledged key: a retried trigger answered with the run it had made.
        Assert.Equal(ledger.Runs.Count, stored.Count);
        foreach (var run in ledger.Runs.Values)
        {
            Assert.True(stored.TryGetValue(run.Id, out var row), $"acknowledged run {run.Id} is not stored");
            if (run.Terminal is not null)
            {
                Assert.True(string.Equals(run.Terminal, row.Status, StringComparison.OrdinalIgnoreCase),
                    $"run {run.Id} was acknowledged {run.Terminal} but is stored {row.Status}");
            }
            Assert.True(row.Lines >= run.AcknowledgedLines, $"run {run.Id}: {run.AcknowledgedLines} lines acknowledged, {row.Lines} stored");
            Assert.True(row.Lines <= run.AcknowledgedLines + run.AmbiguousLines,
                $"run {run.Id}: {row.Lines} lines stored, more than the {run.AcknowledgedLines} acknowledged and {run.AmbiguousLines} unanswered");
        }

        var ended = ledger.Runs.Values.Where(r => r.Terminal is not null).ToList();
        var hooks = receiver.Received.ToList();
        var byRun = hooks.GroupBy(h => h.Run).ToDictionary(g => g.Key, g => g.ToList());
        var undelivered = ended.Where(r => !byRun.ContainsKey(r.Id)).Select(r => r.Id).ToList();
        Assert.True(undelivered.Count == 0, $"{undelivered.Count} of {ended.Count} ended runs never reached the receiver, e.g. {undelivered.FirstOrDefault()}");
        var split = byRun.Where(g => g.Value.Select(h => h.WebhookId).Distinct().Count() != 1).Select(g => g.Key).ToList();
        Assert.True(split.Count == 0, $"{split.Count} runs reached the receiver under more than one webhook-id, e.g. {split.FirstOrDefault()}");
        var unknown = byRun.Keys.Where(id => !ledger.Runs.ContainsKey(id)).ToList();
        Assert.True(unknown.Count == 0, $"the receiver got messages for runs nobody made: {string.Join(", ", unknown.Take(3))}");

        var repeats = hooks.Count - byRun.Count;
        return string.Create(CultureInfo.InvariantCulture,
            $"runs {ledger.Runs.Count} (ended {ended.Count}), lines acknowledged {ledger.Runs.Values.Sum(r => r.AcknowledgedLines)} " +
            $"(unanswered {ledger.Runs.Values.Sum(r => r.AmbiguousLines)}), deliveries {hooks.Count} (same webhook-id again: {repeats}); answers: {ledger.Summary()}");
    }

    /// <summary>
    /// The deliveries still owed when the fault struck: the run's end acknowledged before it (by
    /// <paramref name="host"/>, when given) and not received before <paramref name="held"/>, when the receiver
    /// stopped answering — whatever it got after that went unanswered, so it is sent again.
    /// </summary>
    public static List<string> Owed(Ledger ledger, HookReceiver receiver, DateTimeOffset held, DateTimeOffset fault, string? host = null)
    {
        var answered = receiver.Received.Where(h => h.At < held).Select(h => h.Run).ToHashSet();
        return [.. ledger.Runs.Values
            .Where(r => r.TerminalAcknowledgedAt < fault && (host is null || r.TerminalHost == host) && !answered.Contains(r.Id))
            .Select(r => r.Id)];
    }

    /// <summary>Runs whose message reached the receiver in [<paramref name="from"/>, <paramref name="fault"/>) and reached it again after the fault.</summary>
    public static int SentAgain(HookReceiver receiver, DateTimeOffset from, DateTimeOffset fault)
    {
        var hooks = receiver.Received.ToList();
        var before = hooks.Where(h => h.At >= from && h.At < fault).Select(h => h.Run).ToHashSet();
        return hooks.Where(h => h.At > fault && before.Contains(h.Run)).Select(h => h.Run).Distinct().Count();
    }

    /// <summary>Waits (bounded) until every owed delivery has arrived after the fault; answers how long after it the first and the last did.</summary>
    public static async Task<(int Owed, double First, double Last)> FailoverAsync(HookReceiver receiver, IReadOnlyList<string> owed, DateTimeOffset fault, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        Dictionary<string, DateTimeOffset> arrival;
        while (true)
        {
            arrival = receiver.Received.Where(h => h.At > fault).GroupBy(h => h.Run).ToDictionary(g => g.Key, g => g.Min(h => h.At));
            if (owed.All(arrival.ContainsKey) || DateTime.UtcNow > until)
            {
                break;
            }
            await Task.Delay(200);
        }
        var missing = owed.Where(id => !arrival.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of the {owed.Count} deliveries owed at the fault never arrived after it, e.g. {missing.FirstOrDefault()}");
        var seconds = owed.Select(id => (arrival[id] - fault).TotalSeconds).ToList();
        return seconds.Count == 0 ? (0, 0, 0) : (seconds.Count, seconds.Min(), seconds.Max());
    }
}
