using System.Security.Cryptography;
using Marten;
using Npgsql;
using Weasel.Postgresql.Tables;

namespace Runs.Projections;

/// <summary>A file as stored: where its bytes are, and what they are.</summary>
public sealed record StoredBlob(Guid BlobId, long Size, string Sha256);

/// <summary>A file a client sent, its bytes already stored.</summary>
public sealed record UploadedFile(string Name, string ContentType, StoredBlob Blob)
{
    public Runs.Domain.StoredFile Describe() => new(Name, Blob.Size, ContentType, Blob.Sha256);
}

/// <summary>
/// Input and output files. Bytes are streamed into <c>run_file_chunks</c> in 1 MiB chunks before the
/// event that attaches them (memory stays flat whatever the file size); the file's row in
/// <c>run_files</c> is written in the event's own transaction, so a file is visible exactly when its
/// event is committed. Chunks no file row points to (a failed upload, a replaced output) are removed by
/// the retention sweep. Another store can stand in for this one behind the same four operations.
/// </summary>
public static class RunFileStore
{
    public const string FilesTable = "run_files";
    public const string ChunksTable = "run_file_chunks";
    public const string Input = "input";
    public const string Output = "output";
    public const int ChunkSize = 1024 * 1024;

    public static Table Files(string schema)
    {
        var table = new Table($"{schema}.{FilesTable}");
        table.AddColumn("run_id", "text").AsPrimaryKey();
        table.AddColumn("kind", "text").AsPrimaryKey();
        table.AddColumn("name", "text").AsPrimaryKey();
        table.AddColumn("content_type", "text").NotNull();
        table.AddColumn("size", "bigint").NotNull();
        table.AddColumn("sha256", "text").NotNull();
        table.AddColumn("blob_id", "uuid");
        return table;
    }

    public static Table Chunks(string schema)
    {
        var table = new Table($"{schema}.{ChunksTable}");
        table.AddColumn("blob_id", "uuid").AsPrimaryKey();
        table.AddColumn("seq", "integer").AsPrimaryKey();
        table.AddColumn("data", "bytea").NotNull();
        table.AddColumn("created_on", "timestamptz").NotNull().DefaultValueByExpression("now()");
        return table;
    }

    public sealed class TooLarge(long limit) : Exception($"The file is larger than {limit} bytes.")
    {
        public long Limit { get; } = limit;
    }

    /// <summary>Streams <paramref name="content"/> into chunks, hashing as it goes; throws <see cref="TooLarge"/> past the limit.</summary>
    public static async Task<StoredBlob> WriteAsync(NpgsqlDataSource database, Stream content, long limit, CancellationToken cancellation)
    {
        var blobId = Guid.NewGuid();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[ChunkSize];
        long size = 0;
        var seq = 0;
        await using var connection = await database.OpenConnectionAsync(cancellation);
        while (true)
        {
            var filled = 0;
            int read;
            while (filled < buffer.Length && (read = await content.ReadAsync(buffer.AsMemory(filled), cancellation)) > 0)
            {
                filled += read;
            }
            if (filled == 0 && seq > 0)
            {
                break;
            }
            size += filled;
            if (size > limit)
            {
                await DeleteBlobsAsync(connection, [blobId], cancellation);
                throw new TooLarge(limit);
            }
            hash.AppendData(buffer, 0, filled);
            await using var insert = new NpgsqlCommand($"insert into {RunsStore.Schema}.{ChunksTable} (blob_id, seq, data) values ($1, $2, $3)", connection);
            insert.Parameters.Add(new() { Value = blobId });
            insert.Parameters.Add(new() { Value = seq++ });
            insert.Parameters.Add(new() { Value = new ArraySegment<byte>(buffer, 0, filled) });
            await insert.ExecuteNonQueryAsync(cancellation);
            if (filled < buffer.Length)
            {
                break;
            }
        }
        return new StoredBlob(blobId, size, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>Replaces the run's files of one kind, in the session's transaction.</summary>
    public static void QueueReplace(IDocumentSession session, string runId, string kind, IEnumerable<UploadedFile> files)
    {
        session.QueueSqlCommand($"delete from {RunsStore.Schema}.{FilesTable} where run_id = ? and kind = ?", runId, kind);
        foreach (var (name, contentType, blob) in files)
        {
            session.QueueSqlCommand(
                $"insert into {RunsStore.Schema}.{FilesTable} (run_id, kind, name, content_type, size, sha256, blob_id) values (?, ?, ?, ?, ?, ?, ?)",
                runId, kind, name, contentType, blob.Size, blob.Sha256, blob.BlobId);
        }
    }

    /// <summary>Streams a stored file's bytes to <paramref name="destination"/>; false when there is no such file.</summary>
    public static async Task<bool> CopyToAsync(
        NpgsqlDataSource database, string runId, string kind, string name, Stream destination, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"select c.data from {RunsStore.Schema}.{FilesTable} f join {RunsStore.Schema}.{ChunksTable} c on c.blob_id = f.blob_id " +
            "where f.run_id = $1 and f.kind = $2 and f.name = $3 order by c.seq");
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = kind });
        command.Parameters.Add(new() { Value = name });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
        var any = false;
        while (await reader.ReadAsync(cancellation))
        {
            any = true;
            await using var chunk = await reader.GetStreamAsync(0, cancellation);
            await chunk.CopyToAsync(destination, cancellation);
        }
        return any;
    }

    public static async Task DeleteBlobsAsync(NpgsqlConnection connection, Guid[] blobIds, CancellationToken cancellation)
    {
        await using var delete = new NpgsqlCommand($"delete from {RunsStore.Schema}.{ChunksTable} where blob_id = any($1)", connection);
        delete.Parameters.Add(new() { Value = blobIds });
        await delete.ExecuteNonQueryAsync(cancellation);
    }
}
