using Marten;
using Npgsql;
using Weasel.Postgresql.Tables;

namespace Runs.Projections;

/// <summary>A file's bytes as they arrive: its original name, media type and content.</summary>
public sealed record IncomingFile(string Name, string ContentType, byte[] Content);

/// <summary>
/// Input and output file bytes, in a table of their own keyed by (run, kind, name), written in the same
/// transaction as the event that lists them. Reads stream the bytes straight to the response.
/// </summary>
public static class RunFileStore
{
    public const string TableName = "run_files";
    public const string Input = "input";
    public const string Output = "output";

    public static Table Table(string schema)
    {
        var table = new Table($"{schema}.{TableName}");
        table.AddColumn("run_id", "text").AsPrimaryKey();
        table.AddColumn("kind", "text").AsPrimaryKey();
        table.AddColumn("name", "text").AsPrimaryKey();
        table.AddColumn("content_type", "text").NotNull();
        table.AddColumn("size", "bigint").NotNull();
        table.AddColumn("sha256", "text").NotNull();
        table.AddColumn("content", "bytea").NotNull();
        return table;
    }

    public static void Queue(IDocumentSession session, string runId, string kind, IEnumerable<IncomingFile> files)
    {
        var schema = session.DocumentStore.Options.DatabaseSchemaName;
        foreach (var file in files)
        {
            session.QueueSqlCommand(
                $"insert into {schema}.{TableName} (run_id, kind, name, content_type, size, sha256, content) values (?, ?, ?, ?, ?, ?, ?)",
                runId, kind, file.Name, file.ContentType, (long)file.Content.Length,
                Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file.Content)), file.Content);
        }
    }

    /// <summary>Copies a stored file's bytes to <paramref name="destination"/>; false when there is no such file.</summary>
    public static async Task<bool> CopyToAsync(
        NpgsqlDataSource database, string runId, string kind, string name, Stream destination, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"select content from {RunsStore.Schema}.{TableName} where run_id = $1 and kind = $2 and name = $3");
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = kind });
        command.Parameters.Add(new() { Value = name });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
        if (!await reader.ReadAsync(cancellation))
        {
            return false;
        }
        await using var content = await reader.GetStreamAsync(0, cancellation);
        await content.CopyToAsync(destination, cancellation);
        return true;
    }
}
