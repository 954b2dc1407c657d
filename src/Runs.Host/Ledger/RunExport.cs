using System.Buffers;

namespace Runs.Host.Ledger;

/// <summary>
/// Writes runs in the <c>runs-export/1</c> format (docs/ledger.md): NDJSON, one header line, then per run a
/// <c>run</c> line, its events (data as stored, metadata, links), its log lines and its files (a <c>file</c>
/// line, then its bytes in base64 <c>chunk</c> lines of at most 1 MiB), and an <c>end</c> line that counts
/// what came. Everything is streamed from storage: memory holds one line at a time, whatever the runs hold.
/// </summary>
public static class RunExport
{
    public const string Format = "runs-export/1";
    public const string MediaType = "application/x-ndjson";

    /// <summary>Export times carry every digit PostgreSQL keeps, so an import stores exactly what was exported.</summary>
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    private static readonly JsonWriterOptions Lines = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private static string Table(string name) => $"{RunsStore.Schema}.{name}";

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static async Task WriteAsync(
        Stream output, NpgsqlDataSource database, IReadOnlyList<string> runs, DateTimeOffset now, Action<int>? progress, CancellationToken cancellation)
    {
        var line = new Line(output);
        long records = 0;
        await line.WriteAsync(w =>
        {
            w.WriteString("record", "header");
            w.WriteString("format", Format);
            w.WriteString("exported_on", Time(now));
            w.WriteNumber("runs", runs.Count);
        }, cancellation);
        var done = 0;
        foreach (var run in runs)
        {
            records += await WriteRunAsync(line, database, run, cancellation);
            done++;
            progress?.Invoke(done);
        }
        await line.WriteAsync(w =>
        {
            w.WriteString("record", "end");
            w.WriteNumber("runs", runs.Count);
            w.WriteNumber("records", records + 2);
        }, cancellation);
        await output.FlushAsync(cancellation);
    }

    private static async Task<long> WriteRunAsync(Line line, NpgsqlDataSource database, string run, CancellationToken cancellation)
    {
        await using var connection = await database.OpenConnectionAsync(cancellation);
        // One snapshot per run: a write landing mid-export cannot make its counts, links and content disagree.
        await using var snapshot = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellation);
        long records = 1;

        // Every query here reads one run's rows, in order, and writes a line (or none) per row.
        async Task EachRowAsync(string sql, Func<NpgsqlDataReader, Task> row)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new() { Value = run });
            await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                await row(reader);
            }
        }

        await EachRowAsync(
            $"select (select job from {Table("mt_doc_run")} where id = $1), " +
            $"(select count(*) from {Table("mt_events")} where stream_id = $1), " +
            $"(select count(*) from {Table(LogLineStore.TableName)} where run_id = $1), " +
            $"(select count(*) from {Table(RunFileStore.FilesTable)} where run_id = $1), " +
            $"(select hash from {Table(LedgerTables.Links)} where run_id = $1 order by version desc limit 1)",
            reader =>
            {
                var (job, events, lines, files, head) = (Nullable(reader, 0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), Nullable(reader, 4));
                return line.WriteAsync(w =>
                {
                    w.WriteString("record", "run");
                    w.WriteString("run", run);
                    w.WriteString("job", job);
                    w.WriteNumber("events", events);
                    w.WriteNumber("log_lines", lines);
                    w.WriteNumber("files", files);
                    w.WriteString("head", head);
                }, cancellation);
            });

        await EachRowAsync(
            "select e.version, e.id, e.type, e.timestamp, e.data, e.user_name, e.correlation_id, e.causation_id, l.hash, l.previous_hash " +
            $"from {Table("mt_events")} e left join {Table(LedgerTables.Links)} l on l.run_id = e.stream_id and l.version = e.version " +
            "where e.stream_id = $1 order by e.version",
            reader =>
            {
                var (version, id, type, timestamp, data) = (reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4));
                var metadata = (User: Nullable(reader, 5), Correlation: Nullable(reader, 6), Causation: Nullable(reader, 7));
                var link = (Hash: Nullable(reader, 8), Previous: Nullable(reader, 9));
                records++;
                return line.WriteAsync(w =>
                {
                    w.WriteString("record", "event");
                    w.WriteString("run", run);
                    w.WriteNumber("version", version);
                    w.WriteString("id", id);
                    w.WriteString("type", StoredRunAudit.ClientNames.GetValueOrDefault(type, type));
                    w.WriteString("timestamp", Time(timestamp));
                    w.WritePropertyName("data");
                    w.WriteRawValue(data, skipInputValidation: true);
                    w.WriteStartObject("metadata");
                    w.WriteString("user", metadata.User);
                    w.WriteString("correlation_id", metadata.Correlation);
                    w.WriteString("causation_id", metadata.Causation);
                    w.WriteEndObject();
                    w.WriteString("hash", link.Hash);
                    w.WriteString("previous_hash", link.Previous);
                }, cancellation);
            });

        await EachRowAsync(
            $"select line_id, at, level, message, internal from {Table(LogLineStore.TableName)} where run_id = $1 order by line_id",
            reader =>
            {
                var (id, at, level, message, isInternal) = (reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), (Domain.LogLevel)reader.GetInt16(2), reader.GetString(3), reader.GetBoolean(4));
                records++;
                return line.WriteAsync(w =>
                {
                    w.WriteString("record", "log_line");
                    w.WriteString("run", run);
                    w.WriteNumber("id", id);
                    w.WriteString("at", Time(at));
                    w.WriteString("level", level.Name());
                    w.WriteString("message", message);
                    w.WriteBoolean("internal", isInternal);
                }, cancellation);
            });

        (string Kind, string Name)? current = null;
        var buffer = new byte[RunFileStore.ChunkSize];
        await EachRowAsync(
            "select f.kind, f.name, f.content_type, f.size, f.sha256, c.seq, c.data " +
            $"from {Table(RunFileStore.FilesTable)} f left join {Table(RunFileStore.ChunksTable)} c on c.blob_id = f.blob_id " +
            "where f.run_id = $1 order by f.kind, f.name, c.seq",
            async reader =>
            {
                var (kind, name, contentType, size, sha256) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4));
                if (current != (kind, name))
                {
                    current = (kind, name);
                    await line.WriteAsync(w =>
                    {
                        w.WriteString("record", "file");
                        w.WriteString("run", run);
                        w.WriteString("kind", kind);
                        w.WriteString("name", name);
                        w.WriteString("content_type", contentType);
                        w.WriteNumber("size", size);
                        w.WriteString("sha256", sha256);
                    }, cancellation);
                    records++;
                }
                if (await reader.IsDBNullAsync(5, cancellation))
                {
                    return;
                }
                var seq = reader.GetInt32(5);
                var length = (int)reader.GetBytes(6, 0, buffer, 0, buffer.Length);
                await line.WriteAsync(w =>
                {
                    w.WriteString("record", "chunk");
                    w.WriteString("run", run);
                    w.WriteString("kind", kind);
                    w.WriteString("name", name);
                    w.WriteNumber("seq", seq);
                    w.WriteBase64String("data", buffer.AsSpan(0, length));
                }, cancellation);
                records++;
            });
        await snapshot.CommitAsync(cancellation);
        return records;
    }

    private static string? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>One JSON object per line, written through one reused buffer.</summary>
    private sealed class Line(Stream output)
    {
        private static readonly byte[] Newline = "\n"u8.ToArray();

        private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
        private readonly Utf8JsonWriter _writer = new(Stream.Null, Lines);

        public async Task WriteAsync(Action<Utf8JsonWriter> write, CancellationToken cancellation)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _writer.WriteStartObject();
            write(_writer);
            _writer.WriteEndObject();
            _writer.Flush();
            await output.WriteAsync(_buffer.WrittenMemory, cancellation);
            await output.WriteAsync(Newline, cancellation);
        }
    }
}
