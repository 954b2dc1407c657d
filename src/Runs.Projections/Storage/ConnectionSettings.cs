using Npgsql;

namespace Runs.Projections;

/// <summary>How every pool of the service connects: the event store's, the reads' and the token lookups'.</summary>
public static class ConnectionSettings
{
    public static NpgsqlConnectionStringBuilder For(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString)
        {
            // Nothing the service runs leaves session state a later borrower could trip on (the live streams'
            // LISTEN connection goes back only once it failed or the host stops, and a notification nobody
            // handles is dropped), so a connection going back to its pool skips DISCARD ALL, which would also
            // drop the prepared statements below.
            NoResetOnClose = true,
        };
        // The same few dozen statements run all day: prepared, PostgreSQL parses and plans each once per
        // connection rather than on every command (docs/benchmarks.md measures it). Each setting the connection
        // string gives itself is kept; Max Auto Prepare=0 turns this off (docs/operations.md says when to).
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys
            .Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()).ToHashSet();
        if (!given.Contains("maxautoprepare"))
        {
            settings.MaxAutoPrepare = 64;
        }
        if (!given.Contains("autoprepareminusages"))
        {
            settings.AutoPrepareMinUsages = 2;
        }
        return settings;
    }
}
