using Marten.Schema;

namespace Runs.Projections.Storage;

/// <summary>
/// Runs stored before statuses were stored by their names kept the enum's C# name (<c>Succeeded</c>) in the
/// document and the status column. At start they are given the names (<c>succeeded</c>) every filter, statistic
/// and answer uses. The update finds them through the status column's index: once none are left, a start pays one
/// index probe for it.
/// </summary>
public sealed class StoredStatusNames : IInitialData
{
    public async Task Populate(IDocumentStore store, CancellationToken cancellation)
    {
        var statuses = Enum.GetValues<RunStatus>();
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"update {RunsStore.Schema}.mt_doc_run d set status = n.name, data = jsonb_set(d.data, '{{status}}', to_jsonb(n.name)) " +
            "from unnest($1::text[], $2::text[]) n(old, name) where d.status = n.old", connection)
        {
            Parameters =
            {
                new() { Value = statuses.Select(s => s.ToString()).ToArray() },
                new() { Value = statuses.Select(s => s.Name()).ToArray() },
            },
        };
        try
        {
            await command.ExecuteNonQueryAsync(cancellation);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // Only when the host was told not to migrate at start (Runs:Database:ApplySchemaOnStart).
            throw new InvalidOperationException(
                $"The database has no runs schema ({e.MessageText}): run `db-apply` before starting, or let the start apply it (Runs:Database:ApplySchemaOnStart=true).", e);
        }
    }
}
