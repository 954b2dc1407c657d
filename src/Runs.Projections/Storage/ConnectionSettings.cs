using Npgsql;

namespace Runs.Projections;

/// <summary>How every pool of the service connects: the event store's, the reads' and the token lookups'.</summary>
public static class ConnectionSettings
{
    public static NpgsqlConnectionStringBuilder For(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString)
        {
            // No command changes session state, so a connection going back to its pool skips DISCARD ALL,
            // which would also drop the prepared statements below.
            NoResetOnClose = true,
        };
        // The same few dozen statements run all day: prepared, PostgreSQL parses and plans each once per
        // connection rather than on every command (docs/benchmarks.md measures it). A connection string that
        // sets it itself is left as it is.
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase))
        {
            settings.MaxAutoPrepare = 64;
            settings.AutoPrepareMinUsages = 2;
        }
        return settings;
    }
}
