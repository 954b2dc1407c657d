using System.Buffers;
using System.Security.Cryptography;
using Weasel.Postgresql.Tables;

namespace Runs.Projections;

/// <summary>A file as stored: where its bytes are, and what they are.</summary>
public sealed record StoredBlob(Guid BlobId, long Size, string Sha256);

/// <summary>A file's row as stored: what it is and which bytes are its, read once so the two always agree.</summary>
public sealed record FileRow(string Name, string ContentType, long Size, string Sha256, Guid BlobId);

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
/// the retention sweep. No connection is held while a client sends or reads: each chunk is one short
/// command, so a slow client costs a socket, not a pooled connection. Another store can stand in for
/// this one behind the same operations.
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

    /// <summary>
    /// Streams <paramref name="content"/> into chunks, hashing as it goes; throws <see cref="TooLarge"/> past the limit.
    /// Each chunk is read whole from the client before a connection is taken to store it. While a request
    /// uploads several files, storing a chunk also keeps the request's earlier blobs (<paramref name="earlier"/>)
    /// fresh, so the orphan sweep never takes the bytes of an upload still in progress.
    /// </summary>
    public static async Task<StoredBlob> WriteAsync(
        NpgsqlDataSource database, Stream content, long limit, CancellationToken cancellation, IReadOnlyCollection<Guid>? earlier = null)
    {
        var blobId = Guid.NewGuid();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            long size = 0;
            var seq = 0;
            while (true)
            {
                var filled = await content.ReadAtLeastAsync(buffer.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, cancellation);
                if (filled == 0 && seq > 0)
                {
                    break;
                }
                size += filled;
                if (size > limit)
                {
                    await using var connection = await database.OpenConnectionAsync(cancellation);
                    await DeleteBlobsAsync(connection, [blobId], cancellation);
                    throw new TooLarge(limit);
                }
                hash.AppendData(buffer, 0, filled);
                await using var batch = database.CreateBatch();
                batch.BatchCommands.Add(new NpgsqlBatchCommand($"insert into {RunsStore.Schema}.{ChunksTable} (blob_id, seq, data) values ($1, $2, $3)")
                {
                    Parameters = { new() { Value = blobId }, new() { Value = seq++ }, new() { Value = new ArraySegment<byte>(buffer, 0, filled) } },
                });
                if (earlier is { Count: > 0 })
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand($"update {RunsStore.Schema}.{ChunksTable} set created_on = now() where blob_id = any($1) and seq = 0")
                    {
                        Parameters = { new() { Value = earlier.ToArray() } },
                    });
                }
                await batch.ExecuteNonQueryAsync(cancellation);
                if (filled < ChunkSize)
                {
                    break;
                }
            }
            return new StoredBlob(blobId, size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
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

    /// <summary>The run's files of one kind, as their rows stand now.</summary>
    public static async Task<List<FileRow>> ListAsync(NpgsqlDataSource database, string runId, string kind, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"select name, content_type, size, sha256, blob_id from {RunsStore.Schema}.{FilesTable} where run_id = $1 and kind = $2 and blob_id is not null order by name");
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = kind });
        var rows = new List<FileRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            rows.Add(new FileRow(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetGuid(4)));
        }
        return rows;
    }

    /// <summary>
    /// Streams a blob's bytes to <paramref name="destination"/>, one chunk per query: the connection goes back
    /// to the pool before each chunk is written, however slowly the client reads.
    /// </summary>
    public static async Task CopyToAsync(NpgsqlDataSource database, Guid blobId, Stream destination, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            for (var seq = 0; ; seq++)
            {
                int filled;
                await using (var command = database.CreateCommand($"select data from {RunsStore.Schema}.{ChunksTable} where blob_id = $1 and seq = $2"))
                {
                    command.Parameters.Add(new() { Value = blobId });
                    command.Parameters.Add(new() { Value = seq });
                    await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
                    if (!await reader.ReadAsync(cancellation))
                    {
                        return;
                    }
                    await using var chunk = await reader.GetStreamAsync(0, cancellation);
                    filled = await chunk.ReadAtLeastAsync(buffer.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, cancellation);
                }
                await destination.WriteAsync(buffer.AsMemory(0, filled), cancellation);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static async Task DeleteBlobsAsync(NpgsqlConnection connection, Guid[] blobIds, CancellationToken cancellation)
    {
        await using var delete = new NpgsqlCommand($"delete from {RunsStore.Schema}.{ChunksTable} where blob_id = any($1)", connection);
        delete.Parameters.Add(new() { Value = blobIds });
        await delete.ExecuteNonQueryAsync(cancellation);
    }
}
