using Npgsql;


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
}
