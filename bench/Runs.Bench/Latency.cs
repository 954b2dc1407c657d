/// <summary>Latency of one call, timed alone and in turn: the service's answer beside its bare SQL.</summary>
public static class Latency
{
    /// <summary>Medians and 99th percentiles in milliseconds over <paramref name="iterations"/> calls, after warm-ups.</summary>
    public static async Task<(double P50, double P99)> TimeAsync(Func<Task> call, int iterations, int warmups)
    {
        for (var i = 0; i < warmups; i++)
        {
            await call();
        }
        var times = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(times);
        return (Math.Round(times[iterations / 2], 2), Math.Round(times[(int)Math.Ceiling(0.99 * iterations) - 1], 2));
    }

    /// <summary>The query a user would write instead, read to its end.</summary>
    public static async Task ReadAllAsync(NpgsqlDataSource database, string sql, object[] args)
    {
        await using var command = database.CreateCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
        }
    }

    /// <summary>
    /// One result row: the API call and the same query in bare SQL, timed in turn; <paramref name="extra"/>
    /// adds what the caller counted along the way.
    /// </summary>
    public static async Task<Dictionary<string, object>> CompareAsync(
        string query, Func<Task> api, NpgsqlDataSource database, string sql, object[] args, int iterations, int warmups, Func<(string, object)>? extra = null)
    {
        var served = await TimeAsync(api, iterations, warmups);
        var bare = await TimeAsync(() => ReadAllAsync(database, sql, args), iterations, warmups);
        var row = new Dictionary<string, object> { ["query"] = query };
        if (extra?.Invoke() is { } counted)
        {
            row[counted.Item1] = counted.Item2;
        }
        row["api_p50_ms"] = served.P50;
        row["api_p99_ms"] = served.P99;
        row["sql_p50_ms"] = bare.P50;
        row["sql_p99_ms"] = bare.P99;
        row["ratio_p50"] = Math.Round(served.P50 / bare.P50, 2);
        return row;
    }
}
