using Npgsql;

namespace Runs.Tests;

// Compiled into every test project (each links this file).
public static class TestDatabase
{
    /// <summary>The server and database the suite was given, read once: a test may change the variable for a command it runs.</summary>
    public static string Baseline { get; } = Environment.GetEnvironmentVariable("ConnectionStrings__Runs")
        ?? "Host=127.0.0.1;Port=55432;Database=runs_tests;Username=runs;Password=runs";

    /// <summary>
    /// The connection string of a fresh test database beside the one <c>ConnectionStrings__Runs</c> names
    /// (./test.sh sets it to a cluster of its own): dropped and created again, so every test run
    /// starts from the schema the code describes, whatever an earlier run left behind.
    /// </summary>
    public static async Task<string> EnsureAsync(string suffix)
    {
        var baseline = Baseline;
        var builder = new NpgsqlConnectionStringBuilder(baseline);
        var database = $"{builder.Database}_{suffix}";

        await using (var connection = new NpgsqlConnection(baseline))
        {
            await connection.OpenAsync();
            // Dropping a database waits for an immediate checkpoint, which on a busy machine's disk has taken
            // longer than Npgsql's default 30 s; the bound is a hang guard, not an expectation.
            try
            {
                await DropAsync(connection, database, force: true);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                // FORCE may not terminate an autovacuum worker (it runs as no role of ours) still busy with
                // what the last run wrote; a plain drop cancels it and waits for it.
                await DropAsync(connection, database, force: false);
            }
            await using var create = new NpgsqlCommand($"create database \"{database}\"", connection) { CommandTimeout = 300 };
            await create.ExecuteNonQueryAsync();
        }

        builder.Database = database;
        return builder.ConnectionString;
    }

    private static async Task DropAsync(NpgsqlConnection connection, string database, bool force)
    {
        await using var drop = new NpgsqlCommand($"drop database if exists \"{database}\"{(force ? " with (force)" : "")}", connection) { CommandTimeout = 300 };
        await drop.ExecuteNonQueryAsync();
    }
}
