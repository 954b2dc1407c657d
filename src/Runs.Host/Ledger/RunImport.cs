using NpgsqlTypes;

namespace Runs.Host.Ledger;

/// <summary>What happened to one run of an import file.</summary>
public sealed record ImportOutcome(string Run, string Result, string? Detail = null)
{
    public const string Imported = "imported";
    public const string Unchanged = "unchanged";
    public const string Differs = "differs";
    public const string Refused = "refused";

    public bool Ok => Result is Imported or Unchanged;
}

/// <summary>
/// Reads a <c>runs-export/1</c> file twice. First every record is checked — the format, the order of records,
/// each run's chain recomputed from its events, its lines against their batches' digests, its files' bytes
/// against their hashes, the counts — and a file that fails anywhere is refused whole, before anything is
/// written. Then each run is written in one transaction of its own through the same Marten session every
/// writer uses (so its document, telemetry and links are made as for any append), its lines by binary COPY
/// and its bytes in chunks, streamed from the file; its links are compared with the file's before it commits.
/// A run already here is compared and left alone: identical, it is unchanged; different, it is reported.
/// </summary>
public sealed class RunImport(IDocumentStore store, NpgsqlDataSource database, Microsoft.Extensions.Options.IOptions<RunsOptions> options)
{
    private IDocumentStore Store => store;
    private NpgsqlDataSource Database => database;
    private IReadOnlyDictionary<string, string> SecretKeys => options.Value.Secrets.Keys;

    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 256 };

    private static readonly Dictionary<string, Type> EventTypes = RunsStore.EventTypes.ToDictionary(t => t.Name);

    private static string Table(string name) => $"{RunsStore.Schema}.{name}";

    /// <summary>Problems that make the file unusable; empty when every record holds.</summary>
    public static async Task<List<string>> CheckAsync(string path, Action<long>? progress, CancellationToken cancellation)
    {
        var problems = new List<string>();
        var reader = new RecordReader(path);
        RunAudit? audit = null;
        RunRecord? run = null;
        FileRecord? file = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long expectedRuns = -1, records = 0;
        var ended = false;

        void FinishFile()
        {
            if (file is not null)
            {
                if (file.Chunks != file.NextSeq)
                {
                    problems.Add($"run {run!.Id}: the chunks of file '{file.Name}' are not numbered 0, 1, 2, …");
                }
                audit!.File(file.Audited());
                file = null;
            }
        }

        void FinishRun()
        {
            FinishFile();
            if (run is null || audit is null)
            {
                return;
            }
            var verdict = audit.Finish();
            problems.AddRange(verdict.Problems.Select(p => $"run {run.Id}: {p.Kind}: {p.Detail}"));
            if (verdict.Events != run.Events || verdict.LogLines != run.LogLines || verdict.Files != run.Files)
            {
                problems.Add($"run {run.Id}: the file holds {verdict.Events} events, {verdict.LogLines} log lines and {verdict.Files} files; its run record says {run.Events}, {run.LogLines} and {run.Files}.");
            }
            if (verdict.Head != run.Head)
            {
                problems.Add($"run {run.Id}: its events end at head {verdict.Head ?? "(none)"}, its run record says {run.Head ?? "(none)"}.");
            }
            run = null;
            audit = null;
        }

        await foreach (var (number, record) in reader.ReadAsync(progress, cancellation))
        {
            using (record)
            {
                records++;
                var root = record.RootElement;
                var kind = Text(root, "record");
                if (ended)
                {
                    problems.Add($"line {number}: records follow the end record.");
                    break;
                }
                if (number == 1)
                {
                    if (kind != "header" || Text(root, "format") != RunExport.Format)
                    {
                        problems.Add($"line 1: not a {RunExport.Format} file (its first line must be a header with \"format\": \"{RunExport.Format}\").");
                        break;
                    }
                    expectedRuns = Number(root, "runs") ?? -1;
                    continue;
                }
                var owner = Text(root, "run");
                if (kind is "event" or "log_line" or "file" or "chunk" && (run is null || owner != run.Id))
                {
                    problems.Add($"line {number}: a {kind} record of run '{owner}' outside that run's records.");
                    break;
                }
                switch (kind)
                {
                    case "run":
                        FinishRun();
                        if (owner is null || !RunId.IsValid(owner) || !seen.Add(owner))
                        {
                            problems.Add($"line {number}: run '{owner}' is not a run id, or comes twice.");
                            break;
                        }
                        run = new RunRecord(owner, Text(root, "job"), Number(root, "events") ?? -1, Number(root, "log_lines") ?? -1, Number(root, "files") ?? -1, Text(root, "head"));
                        audit = new RunAudit(owner);
                        break;
                    case "event":
                        var (version, stored, link) = Event(root, run!.Id);
                        audit!.Event(version, stored, link);
                        break;
                    case "log_line":
                        audit!.Line(Line(root));
                        break;
                    case "file":
                        FinishFile();
                        file = new FileRecord(Text(root, "kind") ?? "", Text(root, "name") ?? "", Text(root, "content_type") ?? "", Number(root, "size") ?? -1, Text(root, "sha256") ?? "");
                        break;
                    case "chunk":
                        if (file is null || Text(root, "kind") != file.Kind || Text(root, "name") != file.Name)
                        {
                            problems.Add($"line {number}: a chunk outside its file's records.");
                            break;
                        }
                        file.Add(Number(root, "seq") ?? -1, root.GetProperty("data").GetBytesFromBase64());
                        break;
                    case "end":
                        FinishRun();
                        ended = true;
                        if (Number(root, "runs") != seen.Count || expectedRuns != seen.Count || Number(root, "records") != records)
                        {
                            problems.Add($"line {number}: the end record counts {Number(root, "runs")} runs and {Number(root, "records")} records; the file holds {seen.Count} runs (its header says {expectedRuns}) and {records} records.");
                        }
                        break;
                    default:
                        problems.Add($"line {number}: unknown record '{kind}'.");
                        break;
                }
            }
            if (problems.Count > 100)
            {
                break;
            }
        }
        if (reader.Problem is { } unreadable)
        {
            problems.Add(unreadable);
        }
        else if (!ended && problems.Count == 0)
        {
            problems.Add("the file ends before its end record: it is cut short.");
        }
        return problems;
    }

    /// <summary>Imports a file <see cref="CheckAsync"/> passed; one outcome per run, in the file's order.</summary>
    public async Task<List<ImportOutcome>> ImportAsync(string path, Action<long>? progress, Action<ImportOutcome>? each, CancellationToken cancellation)
    {
        var outcomes = new List<ImportOutcome>();
        var reader = new RecordReader(path);
        Pending? pending = null;

        async Task Finish()
        {
            if (pending is null)
            {
                return;
            }
            ImportOutcome outcome;
            try
            {
                outcome = await pending.FinishAsync(cancellation);
            }
            catch (Exception e) when (e is FormatException or JsonException or PostgresException or InvalidOperationException)
            {
                // Nothing of the run was committed: its transaction goes with the connection.
                outcome = new ImportOutcome(pending.Run, ImportOutcome.Refused, $"it could not be stored here ({e.Message}); nothing of it was kept.");
            }
            await pending.DisposeAsync();
            pending = null;
            outcomes.Add(outcome);
            each?.Invoke(outcome);
        }

        await foreach (var (_, record) in reader.ReadAsync(progress, cancellation))
        {
            using (record)
            {
                var root = record.RootElement;
                switch (Text(root, "record"))
                {
                    case "run":
                        await Finish();
                        pending = await Pending.StartAsync(this, Text(root, "run")!, Number(root, "log_lines") ?? 0, cancellation);
                        break;
                    case "event":
                        pending!.Event(root);
                        break;
                    case "log_line":
                        await pending!.LineAsync(Line(root), cancellation);
                        break;
                    case "file":
                        await pending!.FileAsync(root, cancellation);
                        break;
                    case "chunk":
                        await pending!.ChunkAsync(Number(root, "seq") ?? 0, root.GetProperty("data").GetBytesFromBase64(), cancellation);
                        break;
                    case "end":
                        await Finish();
                        break;
                }
            }
        }
        await Finish();
        return outcomes;
    }

    private static (long Version, ChainedEvent Stored, ChainLink? Link) Event(JsonElement root, string run)
    {
        var version = Number(root, "version") ?? 0;
        var metadata = root.GetProperty("metadata");
        var stored = new ChainedEvent(run, version, Text(root, "type") ?? "",
            DateTimeOffset.Parse(Text(root, "timestamp")!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal),
            root.GetProperty("data").Clone(), Text(metadata, "user"), Text(metadata, "correlation_id"), Text(metadata, "causation_id"));
        var hash = Text(root, "hash");
        return (version, stored, hash is null ? null : new ChainLink(version, hash, Text(root, "previous_hash")));
    }

    private static LogLine Line(JsonElement root) => new(
        Number(root, "id") ?? 0,
        DateTimeOffset.Parse(Text(root, "at")!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal),
        LogLevels.TryParse(Text(root, "level"), out var level) ? level : throw new FormatException($"'{Text(root, "level")}' is not a log level."),
        Text(root, "message") ?? "",
        root.TryGetProperty("internal", out var flag) && flag.ValueKind == JsonValueKind.True);

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Number(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : null;

    private sealed record RunRecord(string Id, string? Job, long Events, long LogLines, long Files, string? Head);

    private sealed class FileRecord(string kind, string name, string contentType, long size, string sha256)
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _bytes;

        public string Kind => kind;
        public string Name => name;
        public long Chunks { get; private set; }
        public long NextSeq { get; private set; }

        public void Add(long seq, byte[] data)
        {
            Chunks++;
            NextSeq = seq == NextSeq ? seq + 1 : -1;
            _hash.AppendData(data);
            _bytes += data.Length;
        }

        public AuditedFile Audited() => new(kind, name, contentType, size, sha256, _bytes, Convert.ToHexStringLower(_hash.GetHashAndReset()));
    }

    /// <summary>One run being imported: what the file says, and (when the run is new here) its open transaction.</summary>
    private sealed class Pending : IAsyncDisposable
    {
        private readonly RunImport _import;
        private readonly string _run;
        private readonly List<(ChainedEvent Stored, Guid Id, string? Hash)> _events = [];
        private readonly List<(string Kind, string Name, string Sha256)> _files = [];
        private long _lines;
        private NpgsqlConnection? _connection;
        private NpgsqlTransaction? _transaction;
        private NpgsqlBinaryImporter? _copy;
        private Guid _blob;
        private int _seq;

        private Pending(RunImport import, string run) => (_import, _run) = (import, run);

        private bool Writing => _transaction is not null;

        public string Run => _run;

        public static async Task<Pending> StartAsync(RunImport import, string run, long lines, CancellationToken cancellation)
        {
            var pending = new Pending(import, run);
            await using (var exists = import.Database.CreateCommand($"select exists (select 1 from {Table("mt_streams")} where id = $1)"))
            {
                exists.Parameters.Add(new() { Value = run });
                if ((bool)(await exists.ExecuteScalarAsync(cancellation))!)
                {
                    return pending;
                }
            }
            pending._connection = await import.Database.OpenConnectionAsync(cancellation);
            pending._transaction = await pending._connection.BeginTransactionAsync(cancellation);
            return pending;
        }

        public void Event(JsonElement root)
        {
            var (_, stored, link) = RunImport.Event(root, _run);
            _events.Add((stored, root.GetProperty("id").GetGuid(), link?.Hash));
        }

        public async Task LineAsync(LogLine line, CancellationToken cancellation)
        {
            _lines++;
            if (!Writing)
            {
                return;
            }
            _copy ??= await LogLineStore.BeginCopyAsync(_connection!, cancellation);
            await LogLineStore.WriteRowAsync(_copy, _run, line, cancellation);
        }

        public async Task FileAsync(JsonElement root, CancellationToken cancellation)
        {
            var (kind, name, sha256) = (Text(root, "kind")!, Text(root, "name")!, Text(root, "sha256")!);
            _files.Add((kind, name, sha256));
            if (!Writing)
            {
                return;
            }
            await EndCopyAsync(cancellation);
            (_blob, _seq) = (Guid.NewGuid(), 0);
            await using var insert = new NpgsqlCommand(
                $"insert into {Table(RunFileStore.FilesTable)} (run_id, kind, name, content_type, size, sha256, blob_id) values ($1, $2, $3, $4, $5, $6, $7)", _connection);
            foreach (var value in new object[] { _run, kind, name, Text(root, "content_type")!, Number(root, "size")!.Value, sha256, _blob })
            {
                insert.Parameters.Add(new() { Value = value });
            }
            await insert.ExecuteNonQueryAsync(cancellation);
        }

        public async Task ChunkAsync(long seq, byte[] data, CancellationToken cancellation)
        {
            if (!Writing)
            {
                return;
            }
            await using var insert = new NpgsqlCommand($"insert into {Table(RunFileStore.ChunksTable)} (blob_id, seq, data) values ($1, $2, $3)", _connection);
            insert.Parameters.Add(new() { Value = _blob });
            insert.Parameters.Add(new() { Value = _seq++ });
            insert.Parameters.Add(new() { Value = data });
            await insert.ExecuteNonQueryAsync(cancellation);
        }

        public async Task<ImportOutcome> FinishAsync(CancellationToken cancellation)
        {
            if (!Writing)
            {
                return await CompareAsync(cancellation);
            }
            await EndCopyAsync(cancellation);
            var serializer = _import.Store.Options.Serializer();
            await using (var session = _import.Store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(_transaction!)))
            {
                var data = _events.Select(e => EventTypes.TryGetValue(e.Stored.Type, out var type)
                    ? serializer.FromJson(type, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(e.Stored.Data.GetRawText())))
                    : throw new FormatException($"'{e.Stored.Type}' is not an event type of this service.")).ToArray();
                var stream = session.Events.StartStream<Run>(_run, data);
                for (var i = 0; i < _events.Count; i++)
                {
                    var (stored, id, _) = _events[i];
                    var e = stream.Events[i];
                    (e.Id, e.Timestamp, e.UserName, e.CorrelationId, e.CausationId) = (id, stored.Timestamp, stored.User, stored.CorrelationId, stored.CausationId);
                }
                await session.SaveChangesAsync(cancellation);
            }

            var links = new List<string>();
            await using (var read = new NpgsqlCommand($"select hash from {Table(LedgerTables.Links)} where run_id = $1 order by version", _connection))
            {
                read.Parameters.Add(new() { Value = _run });
                await using var reader = await read.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation))
                {
                    links.Add(reader.GetString(0));
                }
            }
            if (!links.SequenceEqual(_events.Select(e => e.Hash)))
            {
                await _transaction!.RollbackAsync(cancellation);
                return new ImportOutcome(_run, ImportOutcome.Refused, "stored here, its events would not hash as the file says; nothing of it was kept.");
            }
            await _transaction!.CommitAsync(cancellation);
            return new ImportOutcome(_run, ImportOutcome.Imported, SecretKeyNote());
        }

        /// <summary>The run is already here: the same chain, lines and files, or a difference to report.</summary>
        private async Task<ImportOutcome> CompareAsync(CancellationToken cancellation)
        {
            await using var command = _import.Database.CreateCommand(
                $"select (select coalesce(array_agg(hash order by version), '{{}}') from {Table(LedgerTables.Links)} where run_id = $1), " +
                $"(select count(*) from {Table(LogLineStore.TableName)} where run_id = $1), " +
                $"(select coalesce(array_agg(kind || '/' || name || '/' || sha256 order by kind, name), '{{}}') from {Table(RunFileStore.FilesTable)} where run_id = $1)");
            command.Parameters.Add(new() { Value = _run });
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            await reader.ReadAsync(cancellation);
            var links = reader.GetFieldValue<string[]>(0);
            var lines = reader.GetInt64(1);
            var files = reader.GetFieldValue<string[]>(2);
            var expectedFiles = _files.Select(f => $"{f.Kind}/{f.Name}/{f.Sha256}").OrderBy(f => f, StringComparer.Ordinal);
            if (links.SequenceEqual(_events.Select(e => e.Hash)) && lines == _lines && files.OrderBy(f => f, StringComparer.Ordinal).SequenceEqual(expectedFiles))
            {
                return new ImportOutcome(_run, ImportOutcome.Unchanged);
            }
            return new ImportOutcome(_run, ImportOutcome.Differs,
                $"a run with this id is already here with other content ({links.Length} events, {lines} log lines, {files.Length} files; the file has {_events.Count}, {_lines} and {_files.Count}); it was left alone.");
        }

        /// <summary>Secret env values travel sealed; this instance can open them only with the key they name.</summary>
        private string? SecretKeyNote()
        {
            var triggered = _events.FirstOrDefault(e => e.Stored.Type == nameof(Triggered)).Stored;
            if (triggered?.Data.TryGetProperty("env", out var env) != true || env.ValueKind != JsonValueKind.Array)
            {
                return null;
            }
            var missing = env.EnumerateArray()
                .Where(v => v.TryGetProperty("secret", out var s) && s.ValueKind == JsonValueKind.True)
                .Select(v => SecretCipher.KeyIdOf(v.GetProperty("value").GetString() ?? ""))
                .Where(id => id is not null && !_import.SecretKeys.ContainsKey(id))
                .Distinct()
                .ToList();
            return missing.Count == 0 ? null
                : $"its secret env values are sealed with key {string.Join(", ", missing.Select(k => $"'{k}'"))}, which Runs:Secrets:Keys here lacks; add it to scrub them from the run's later log lines.";
        }

        private async Task EndCopyAsync(CancellationToken cancellation)
        {
            if (_copy is not null)
            {
                await _copy.CompleteAsync(cancellation);
                await _copy.DisposeAsync();
                _copy = null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_copy is not null)
            {
                await _copy.DisposeAsync();
            }
            if (_transaction is not null)
            {
                await _transaction.DisposeAsync();
            }
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }
        }
    }

    /// <summary>The file's lines as parsed records, numbered from 1; a line that is not JSON ends the reading with <see cref="Problem"/>.</summary>
    private sealed class RecordReader(string path)
    {
        public string? Problem { get; private set; }

        public async IAsyncEnumerable<(long Number, JsonDocument Record)> ReadAsync(
            Action<long>? progress, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
        {
            await using var file = File.OpenRead(path);
            using var text = new StreamReader(file, System.Text.Encoding.UTF8);
            long number = 0;
            while (await text.ReadLineAsync(cancellation) is { } line)
            {
                number++;
                JsonDocument record;
                try
                {
                    record = JsonDocument.Parse(line, Deep);
                }
                catch (JsonException e)
                {
                    Problem = $"line {number}: not JSON ({e.Message}).";
                    yield break;
                }
                progress?.Invoke(file.Position);
                yield return (number, record);
            }
        }
    }
}
