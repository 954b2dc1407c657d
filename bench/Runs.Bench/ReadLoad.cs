/// <summary>
/// reads: latency of the read endpoints over a seeded table, each beside the bare SQL that returns the
/// same rows, measured in the same run, one request at a time.
/// </summary>
internal static class ReadLoad
{
    private const int Iterations = 200;
    private const int Warmups = 20;

    public static async Task<int> RunAsync(Options options, string connectionString)
    {
        using var http = new HttpClient { BaseAddress = new Uri(options.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        await using var database = NpgsqlDataSource.Create(connectionString);

        // Page 100 of job-007 at 30 runs a page: walk there once to get its token.
        string? token = null;
        for (var page = 1; page < 100; page++)
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync($"/v1/jobs/job-007/runs" + (token is null ? "" : $"?page_token={token}")));
            token = doc.RootElement.GetProperty("next_page_token").GetString();
        }
        var cursor = await CursorAsync(database, token!);
        var since = "2026-01-01T00:00:00Z";

        var cases = new (string Name, string Url, string Sql, object[] Args)[]
        {
            ("first page of a job", "/v1/jobs/job-007/runs",
                "select d.data, d.created__on from runs.mt_doc_run d where d.job = $1 order by d.created__on desc, d.id desc limit 31", ["job-007"]),
            ("page 100 via page_token", $"/v1/jobs/job-007/runs?page_token={token}",
                "select d.data, d.created__on from runs.mt_doc_run d where d.job = $1 and (d.created__on, d.id) < ($2, $3) order by d.created__on desc, d.id desc limit 31",
                ["job-007", cursor.Time, cursor.Id]),
            ("filtered listing", $"/v1/jobs/job-007/runs?filter={Uri.EscapeDataString($"status = \"failed\" AND create_time >= \"{since}\"")}",
                "select d.data, d.created__on from runs.mt_doc_run d where d.job = $1 and d.status = 'failed' and d.created__on >= $2 order by d.created__on desc, d.id desc limit 31",
                ["job-007", DateTime.Parse(since, null, System.Globalization.DateTimeStyles.AdjustToUniversal)]),
            ("job stats", "/v1/jobs/job-007/stats",
                "select count(*), percentile_cont(0.5) within group (order by duration), percentile_cont(0.95) within group (order by duration), max(duration) from runs.mt_doc_run d where d.job = $1",
                ["job-007"]),
            ("daily aggregates, 90 days", "/v1/stats/daily?time_zone=Europe/Berlin&start_date=2026-01-01&end_date=2026-03-31",
                "select (d.created__on at time zone 'Europe/Berlin')::date, count(*), percentile_cont(0.5) within group (order by d.duration) from runs.mt_doc_run d where d.created__on >= '2025-12-31T23:00:00Z' and d.created__on < '2026-03-31T22:00:00Z' group by 1",
                []),
        };

        var results = new List<Dictionary<string, object>>();
        foreach (var (name, url, sql, args) in cases)
        {
            results.Add(await Latency.CompareAsync(
                name, async () => (await http.GetAsync(url)).EnsureSuccessStatusCode().Dispose(), database, sql, args, Iterations, Warmups));
        }
        Console.WriteLine(JsonSerializer.Serialize(results));
        return 0;
    }

    private static async Task<(DateTime Time, string Id)> CursorAsync(NpgsqlDataSource database, string token)
    {
        var padded = token.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        var parts = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('|');
        await Task.CompletedTask;
        return (new DateTime(long.Parse(parts[0]), DateTimeKind.Utc), parts[1]);
    }

}
