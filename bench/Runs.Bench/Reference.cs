using System.Security.Cryptography;

/// <summary>
/// reference: what a user would write instead of this service — a minimal ASP.NET Core app doing the same
/// writes with raw Npgsql: the bearer token looked up by hash, then per command one transaction that locks
/// the run's row, appends the event, updates the run and (for logs) inserts the lines. No framework, no
/// projections, no outbox: the benchmark's yardstick for what Marten and Wolverine cost.
///   dotnet Runs.Bench.dll reference --url http://127.0.0.1:5092     (ConnectionStrings__Runs names the database)
/// </summary>
internal static class Reference
{
    private const string Schema = """
        create table if not exists bench_ref_runs (id text primary key, job text not null, status text not null,
            version int not null, created_on timestamptz not null, doc jsonb not null);
        create table if not exists bench_ref_events (run_id text not null, version int not null, type text not null,
            data jsonb not null, at timestamptz not null, primary key (run_id, version));
        create table if not exists bench_ref_log_lines (run_id text not null, line_id bigint not null, at timestamptz not null,
            level text not null, message text not null, primary key (run_id, line_id));
        """;

    public static async Task<int> RunAsync(Options options, string connectionString)
    {
        var database = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true }.ConnectionString).Build();
        await using (var create = database.CreateCommand(Schema))
        {
            await create.ExecuteNonQueryAsync();
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(options.Url);
        var app = builder.Build();

        app.MapPost("/v1/jobs/{job}/runs", async (string job, HttpContext http) =>
        {
            if (!await AuthenticatedAsync(database, http))
            {
                return Results.Unauthorized();
            }
            var now = DateTimeOffset.UtcNow;
            var id = $"{now.UtcDateTime:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
            var body = await JsonDocument.ParseAsync(http.Request.Body);
            var doc = JsonSerializer.Serialize(new { id, job, status = "pending", source = body.RootElement.TryGetProperty("source", out var s) ? s.GetString() : null, created_on = now });
            await using var connection = await database.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new("insert into bench_ref_runs values ($1, $2, 'pending', 1, $3, $4::jsonb)") { Parameters = { new() { Value = id }, new() { Value = job }, new() { Value = now }, new() { Value = doc } } },
                    new("insert into bench_ref_events values ($1, 1, 'Triggered', $2::jsonb, $3)") { Parameters = { new() { Value = id }, new() { Value = doc }, new() { Value = now } } },
                },
            };
            await batch.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
            return Results.Created($"/v1/jobs/{job}/runs/{id}", new { id, uri = $"/v1/jobs/{job}/runs/{id}", status = "pending" });
        });

        foreach (var (action, from, to) in new[] { ("start", "pending", "running"), ("succeed", "running", "succeeded") })
        {
            app.MapPost($"/v1/jobs/{{job}}/runs/{{run}}/{action}", async (string job, string run, HttpContext http) =>
            {
                if (!await AuthenticatedAsync(database, http))
                {
                    return Results.Unauthorized();
                }
                var (ok, _) = await AppendAsync(database, run, from, to, action, null);
                return ok ? Results.Ok(new { id = run, uri = $"/v1/jobs/{job}/runs/{run}", status = to }) : Results.Conflict();
            });
        }

        app.MapPost("/v1/jobs/{job}/runs/{run}/log", async (string job, string run, HttpContext http) =>
        {
            if (!await AuthenticatedAsync(database, http))
            {
                return Results.Unauthorized();
            }
            var body = await JsonDocument.ParseAsync(http.Request.Body);
            var lines = body.RootElement.GetProperty("lines").EnumerateArray()
                .Select(l => (Level: l.TryGetProperty("level", out var v) ? v.GetString()! : "info", Message: l.GetProperty("message").GetString()!)).ToList();
            var (ok, first) = await AppendAsync(database, run, null, null, "log", lines);
            return ok ? Results.Ok(new { appended = lines.Count, first_id = first + 1, last_id = first + lines.Count }) : Results.Conflict();
        });

        await app.RunAsync();
        return 0;
    }

    private static async Task<bool> AuthenticatedAsync(NpgsqlDataSource database, HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return false;
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..])));
        await using var command = database.CreateCommand("select data from runs.mt_doc_apitoken where data ->> 'hash' = $1");
        command.Parameters.Add(new() { Value = hash });
        return await command.ExecuteScalarAsync() is not null;
    }

    /// <summary>Locks the run, checks its status, appends one event (and log lines), updates it; one commit.</summary>
    private static async Task<(bool Ok, long FirstLineBefore)> AppendAsync(
        NpgsqlDataSource database, string run, string? from, string? to, string type, List<(string Level, string Message)>? lines)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var read = new NpgsqlCommand(
            "select status, version, coalesce((doc ->> 'log_lines')::bigint, 0) from bench_ref_runs where id = $1 for update", connection, transaction)
        {
            Parameters = { new() { Value = run } },
        };
        string status; int version; long logLines;
        await using (var reader = await read.ExecuteReaderAsync())
        {
            if (!await reader.ReadAsync())
            {
                return (false, 0);
            }
            (status, version, logLines) = (reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2));
        }
        if (from is not null && status != from)
        {
            return (false, 0);
        }
        var now = DateTimeOffset.UtcNow;
        var count = lines?.Count ?? 0;
        var data = JsonSerializer.Serialize(new { run_id = run, at = now, first_line_id = logLines + 1, last_line_id = logLines + count });
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("insert into bench_ref_events values ($1, $2, $3, $4::jsonb, $5)") { Parameters = { new() { Value = run }, new() { Value = version + 1 }, new() { Value = type }, new() { Value = data }, new() { Value = now } } },
                new("update bench_ref_runs set status = $2, version = $3, doc = jsonb_set(jsonb_set(doc, '{status}', to_jsonb($2)), '{log_lines}', to_jsonb($4::bigint)) where id = $1")
                {
                    Parameters = { new() { Value = run }, new() { Value = to ?? status }, new() { Value = version + 1 }, new() { Value = logLines + count } },
                },
            },
        };
        if (lines is { Count: > 0 })
        {
            batch.BatchCommands.Add(new(
                "insert into bench_ref_log_lines select $1, $2 + l.i, $3, l.level, l.message from unnest($4::text[], $5::text[]) with ordinality as l(level, message, i)")
            {
                Parameters =
                {
                    new() { Value = run }, new() { Value = logLines }, new() { Value = now },
                    new() { Value = lines.Select(l => l.Level).ToArray() }, new() { Value = lines.Select(l => l.Message).ToArray() },
                },
            });
        }
        await batch.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
        return (true, logLines);
    }
}
