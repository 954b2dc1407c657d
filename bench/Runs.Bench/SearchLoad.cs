/// <summary>
/// search: latency of log search over a seeded log table (bench/search.sh), each case beside the bare SQL
/// that returns the same rows — the statement the endpoint runs, without HTTP, authentication and JSON —
/// one request at a time.
/// </summary>
internal static class SearchLoad
{
    private const int Warmups = 5;
    private const int Iterations = 50;

    private const string Select =
        "select d.job, d.id, d.created__on, l.line_id, l.at, l.level, l.message, l.internal " +
        "from runs.log_lines l join runs.mt_doc_run d on d.id = l.run_id " +
        "where l.message ilike $1 escape '\\' and l.level >= 0 and d.data ->> 'expired_on' is null";

    private const string Order = " order by d.created__on desc, d.id desc, l.line_id limit 51";

    public static async Task<int> RunAsync(Options options, string connectionString)
    {
        using var http = new HttpClient { BaseAddress = new Uri(options.Url), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        await using var database = NpgsqlDataSource.Create(connectionString);

        // Page 10 of a term with 30,000 matches: walk there once for its token and the cursor it stands for.
        string? token = null;
        for (var page = 1; page < 10; page++)
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync("/v1/logs/search?q=connection%20reset" + (token is null ? "" : $"&page_token={token}")));
            token = doc.RootElement.GetProperty("next_page_token").GetString();
        }
        var cursor = Cursor(token!);

        var cases = new (string Name, string Url, string Sql, object[] Args)[]
        {
            ("rare text (300 lines), every job", "/v1/logs/search?q=checksum%20mismatch",
                Select + Order, ["%checksum mismatch%"]),
            ("rare text, one job", "/v1/jobs/job-007/logs/search?q=checksum%20mismatch",
                Select + " and d.job = $2" + Order, ["%checksum mismatch%", "job-007"]),
            ("rare text, filter status = failed", $"/v1/logs/search?q=checksum%20mismatch&filter={Uri.EscapeDataString("status = \"failed\"")}",
                Select + " and d.status = 'failed'" + Order, ["%checksum mismatch%"]),
            ("30,000 matches, first page", "/v1/logs/search?q=connection%20reset",
                Select + Order, ["%connection reset%"]),
            ("30,000 matches, page 10 via page_token", $"/v1/logs/search?q=connection%20reset&page_token={token}",
                Select + " and ((d.created__on, d.id) < ($2, $3) or (d.created__on = $2 and d.id = $3 and l.line_id > $4))" + Order,
                ["%connection reset%", cursor.Created, cursor.Run, cursor.Line]),
            ("230,000 matches, first page", "/v1/logs/search?q=rows%20from%20orders",
                Select + Order, ["%rows from orders%"]),
            ("2.9 million matches, first page", "/v1/logs/search?q=rows",
                Select + Order, ["%rows%"]),
            ("no match", "/v1/logs/search?q=zebra%20crossing",
                Select + Order, ["%zebra crossing%"]),
        };

        var results = new List<Dictionary<string, object>>();
        foreach (var (name, url, sql, args) in cases)
        {
            var matches = 0;
            results.Add(await Latency.CompareAsync(name, async () =>
            {
                using var response = (await http.GetAsync(url)).EnsureSuccessStatusCode();
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
                matches = doc.RootElement.GetProperty("matches").GetArrayLength();
            }, database, sql, args, Iterations, Warmups, () => ("matches_on_page", matches)));
        }
        Console.WriteLine(JsonSerializer.Serialize(results));
        return 0;
    }

    /// <summary>The cursor a search page token stands for: creation ticks, then "run.line".</summary>
    private static (DateTime Created, string Run, long Line) Cursor(string token)
    {
        var padded = token.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        var parts = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('|');
        var dot = parts[1].LastIndexOf('.');
        return (new DateTime(long.Parse(parts[0]), DateTimeKind.Utc), parts[1][..dot], long.Parse(parts[1][(dot + 1)..]));
    }

}
