using Marten.Schema;

namespace Runs.Projections.Storage;

/// <summary>
/// Runs stored before statuses were stored by their names kept the enum's C# name (<c>Succeeded</c>) in the
/// document and the status column. At start they are given the names (<c>succeeded</c>) every filter, statistic
/// and answer uses, a batch at a time, each batch committed: a large database is renamed without one long
/// transaction holding every run's row, and a start cut short keeps what it renamed. The batches find the old
/// names through the status column's index; once none are left, a start pays one index probe for it.
/// </summary>
public sealed class StoredStatusNames : IInitialData
{
    public const int BatchSize = 10_000;

    public async Task Populate(IDocumentStore store, CancellationToken cancellation)
    {
        var statuses = Enum.GetValues<RunStatus>();
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        // Another host starting beside this one skips the rows this one holds, and renames the rest.
        await using var command = new NpgsqlCommand(
            $"with batch as (select id, ($2::text[])[array_position($1::text[], status)] as name from {RunsStore.Schema}.mt_doc_run " +
            $"where status = any($1::text[]) limit {BatchSize} for update skip locked) " +
            $"update {RunsStore.Schema}.mt_doc_run d set status = b.name, data = jsonb_set(d.data, '{{status}}', to_jsonb(b.name)) " +
            "from batch b where d.id = b.id", connection)
        {
            Parameters =
            {
                new() { Value = statuses.Select(s => s.ToString()).ToArray() },
                new() { Value = statuses.Select(s => s.Name()).ToArray() },
            },
        };
        try
        {
            // A short batch is the last this host has to do.
            while (await command.ExecuteNonQueryAsync(cancellation) == BatchSize)
            {
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // Only when the host was told not to migrate at start (Runs:Database:ApplySchemaOnStart).
            throw new InvalidOperationException(
                $"The database has no runs schema ({e.MessageText}): run `db-apply` before starting, or let the start apply it (Runs:Database:ApplySchemaOnStart=true).", e);
        }
    }
}
