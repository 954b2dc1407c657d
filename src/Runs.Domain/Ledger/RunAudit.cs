
namespace Runs.Domain.Ledger;

/// <summary>
/// Something stored that no longer matches what the ledger recorded. Fields that do not apply are null:
/// a problem in an event names its version, in a log line its line id (or the version of the batch that
/// carried it), in a file its name.
/// </summary>
public sealed record LedgerProblem(string Kind, string? Run, long? Version, long? LineId, string? File, string Detail);

public static class ProblemKinds
{
    /// <summary>The event no longer hashes to its link: its type, time, data or metadata changed.</summary>
    public const string EventChanged = "event_changed";
    /// <summary>A version the chain or the stream records has no event.</summary>
    public const string EventRemoved = "event_removed";
    /// <summary>An event the chain does not hold.</summary>
    public const string EventInserted = "event_inserted";
    /// <summary>A link does not point to the link before it.</summary>
    public const string ChainBroken = "chain_broken";
    /// <summary>The run has events but no chain at all.</summary>
    public const string ChainMissing = "chain_missing";
    public const string LogLineChanged = "log_line_changed";
    public const string LogLineRemoved = "log_line_removed";
    public const string LogLineInserted = "log_line_inserted";
    /// <summary>A batch's error lines are not the error lines of the batch's lines.</summary>
    public const string ErrorLinesChanged = "error_lines_changed";
    public const string FileChanged = "file_changed";
    public const string FileRemoved = "file_removed";
    public const string FileInserted = "file_inserted";
    /// <summary>A run a checkpoint lists has no events any more.</summary>
    public const string RunMissing = "run_missing";
    /// <summary>A run's events no longer hash to the head a checkpoint recorded for it.</summary>
    public const string HeadChanged = "head_changed";
    /// <summary>A checkpoint's heads, root, chain of roots or signature do not hold together.</summary>
    public const string CheckpointChanged = "checkpoint_changed";
}

/// <summary>A stored file as its row describes it, and what its bytes turned out to be.</summary>
public sealed record AuditedFile(string Kind, string Name, string ContentType, long Size, string Sha256, long BytesSize, string BytesSha256);

/// <summary>What checking one run found.</summary>
public sealed record RunVerdict(string Run, string? Head, long Events, long LogLines, long Files, IReadOnlyList<LedgerProblem> Problems)
{
    public bool Verified => Problems.Count == 0;
}

/// <summary>
/// Checks one run as it is read, in one pass and without holding its content: its events with their links
/// in version order, then its log lines in id order, then its files. Each link is checked against its own
/// event and the link before it, so one edit is one problem; content is checked against the digests the
/// events recorded. Given a checkpointed head, the chain is also recomputed from the first event, which
/// a rewrite of the links themselves cannot survive. Without <c>content</c>, only events and links are checked.
/// </summary>
public sealed class RunAudit(string run, RunHead? checkpointed = null, bool content = true)
{
    public const string InputFiles = "input";
    public const string OutputFiles = "output";

    private readonly List<LedgerProblem> _problems = [];
    private readonly List<Batch> _batches = [];
    private readonly Dictionary<(string Kind, string Name), StoredFile> _expectedFiles = [];
    private readonly HashSet<(string Kind, string Name)> _seenFiles = [];
    private long _nextVersion = 1;
    private long _events;
    private long _links;
    private long _unchained;
    private long _lines;
    private long _files;
    private string? _head;
    private long _headVersion;
    private string? _recomputed;
    private bool _recomputable = true;
    private bool _checkpointMatched;
    private bool _expired;
    private int _batch;
    private bool _linesSorted;

    public string Run => run;

    public void Event(long version, ChainedEvent? stored, ChainLink? link)
    {
        if (version > _nextVersion)
        {
            Removed(_nextVersion, version - 1, "neither an event nor a link");
            _recomputable = false;
        }
        _nextVersion = version + 1;

        byte[]? canonical = null;
        if (stored is not null)
        {
            _events++;
            canonical = EventChain.Canonical(stored);
            Learn(stored);
            if (_recomputable)
            {
                _recomputed = EventChain.Hash(_recomputed, canonical);
                _checkpointMatched |= checkpointed is { } head && head.Version == version && head.Hash == _recomputed;
            }
        }
        else
        {
            _recomputable = false;
        }

        if (link is null)
        {
            if (stored is not null)
            {
                _unchained++;
                Problem(ProblemKinds.EventInserted, version, null, null,
                    $"Event {version} is not in the run's chain: it was added outside the service (or written before the run was chained; see `ledger chain`).");
            }
            return;
        }

        _links++;
        if (_headVersion == version - 1 && link.PreviousHash != _head)
        {
            Problem(ProblemKinds.ChainBroken, version, null, null,
                $"The link of event {version} does not point to the link of event {version - 1}: the chain was edited.");
        }
        if (stored is null)
        {
            Removed(version, version, "its link remains");
        }
        else if (EventChain.Hash(link.PreviousHash, canonical) != link.Hash)
        {
            Problem(ProblemKinds.EventChanged, version, null, null,
                $"Event {version} ({stored.Type}) no longer matches its hash: its type, time, data or metadata changed.");
        }
        _head = link.Hash;
        _headVersion = version;
    }

    /// <summary>The version the stream itself records; versions past the last event seen were removed.</summary>
    public void StreamVersion(long version)
    {
        if (version >= _nextVersion)
        {
            Removed(_nextVersion, version, "the stream records it");
            _nextVersion = version + 1;
        }
    }

    public void Line(LogLine line)
    {
        if (!_linesSorted)
        {
            _batches.Sort((a, b) => a.First.CompareTo(b.First));
            _linesSorted = true;
        }
        _lines++;
        if (_expired)
        {
            Problem(ProblemKinds.LogLineInserted, null, line.Id, null, $"Line {line.Id} exists although the run's logs were purged under retention.");
            return;
        }
        while (_batch < _batches.Count && _batches[_batch].Last < line.Id)
        {
            Close(_batches[_batch++]);
        }
        if (_batch < _batches.Count && _batches[_batch].First <= line.Id)
        {
            _batches[_batch].Add(line);
        }
        else
        {
            Problem(ProblemKinds.LogLineInserted, null, line.Id, null, $"Line {line.Id} belongs to no log batch of the run.");
        }
    }

    public void File(AuditedFile file)
    {
        _files++;
        var key = (file.Kind, file.Name);
        if (_expired || !_expectedFiles.TryGetValue(key, out var expected))
        {
            Problem(ProblemKinds.FileInserted, null, null, file.Name, _expired
                ? $"The {file.Kind} file '{file.Name}' exists although the run's files were purged under retention."
                : $"The {file.Kind} file '{file.Name}' is not one the run's events attached.");
            return;
        }
        _seenFiles.Add(key);
        if (file.BytesSha256 != expected.Sha256 || file.BytesSize != expected.Size)
        {
            Problem(ProblemKinds.FileChanged, null, null, file.Name,
                $"The bytes of the {file.Kind} file '{file.Name}' ({file.BytesSize} bytes, SHA-256 {file.BytesSha256}) are not those recorded ({expected.Size} bytes, SHA-256 {expected.Sha256}).");
        }
        else if (file.Sha256 != expected.Sha256 || file.Size != expected.Size || file.ContentType != expected.ContentType)
        {
            Problem(ProblemKinds.FileChanged, null, null, file.Name,
                $"The stored description of the {file.Kind} file '{file.Name}' ({file.ContentType}, {file.Size} bytes) is not the one recorded ({expected.ContentType}, {expected.Size} bytes).");
        }
    }

    public RunVerdict Finish()
    {
        if (content && _expired)
        {
            foreach (var batch in _batches.Where(b => b.ErrorLines.Count > 0))
            {
                Problem(ProblemKinds.ErrorLinesChanged, batch.Version, null, null,
                    $"Event {batch.Version} still carries error lines although the run's logs were purged under retention.");
            }
        }
        else if (content)
        {
            for (; _batch < _batches.Count; _batch++)
            {
                Close(_batches[_batch]);
            }
            foreach (var (kind, name) in _expectedFiles.Keys.Where(k => !_seenFiles.Contains(k)))
            {
                Problem(ProblemKinds.FileRemoved, null, null, name, $"The {kind} file '{name}' the run's events attached is not stored.");
            }
        }

        if (_events > 0 && _links == 0)
        {
            _problems.RemoveAll(p => p.Kind == ProblemKinds.EventInserted);
            Problem(ProblemKinds.ChainMissing, null, null, null,
                $"The run's {_events} events have no chain: they were written before the ledger chained events (run `ledger chain`), or its links were deleted.");
        }
        if (checkpointed is { } head && !_checkpointMatched)
        {
            Problem(_events == 0 ? ProblemKinds.RunMissing : ProblemKinds.HeadChanged, head.Version, null, null, _events == 0
                ? $"The run is not in the store: a checkpoint lists it with {head.Version} events."
                : $"The run's events no longer hash to the head a checkpoint recorded at version {head.Version}: history up to there was changed.");
        }
        else if (_events == 0 && _links == 0 && checkpointed is null)
        {
            Problem(ProblemKinds.RunMissing, null, null, null, "The run has no events.");
        }
        return new RunVerdict(run, _head, _events, _lines, _files, _problems);
    }

    /// <summary>Takes what the event says should be stored beside it.</summary>
    private void Learn(ChainedEvent e)
    {
        if (e.Data.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        switch (e.Type)
        {
            case nameof(Triggered):
                foreach (var file in Files(e.Data, "input_files"))
                {
                    _expectedFiles[(InputFiles, file.Name)] = file;
                }
                break;
            case nameof(OutputAttached):
                foreach (var key in _expectedFiles.Keys.Where(k => k.Kind == OutputFiles).ToList())
                {
                    _expectedFiles.Remove(key);
                }
                foreach (var file in Files(e.Data, "files"))
                {
                    _expectedFiles[(OutputFiles, file.Name)] = file;
                }
                break;
            case nameof(LogAppended):
                if (Long(e.Data, "first_line_id") is { } first && Long(e.Data, "last_line_id") is { } last && last >= first)
                {
                    var errors = e.Data.TryGetProperty("error_lines", out var lines) && lines.ValueKind == JsonValueKind.Array
                        ? lines.EnumerateArray().Select(l => l.ToString()).ToList()
                        : [];
                    _batches.Add(new Batch(e.Version, first, last, String(e.Data, "sha256") ?? "", errors));
                }
                break;
            case nameof(RetentionExpired):
                _expired = true;
                break;
        }
    }

    private void Close(Batch batch)
    {
        if (batch.Next <= batch.Last)
        {
            batch.Missing.Add((batch.Next, batch.Last));
        }
        if (batch.Missing.Count > 0)
        {
            foreach (var (from, to) in batch.Missing)
            {
                Problem(ProblemKinds.LogLineRemoved, batch.Version, from, null, from == to
                    ? $"Line {from}, written by event {batch.Version}, is missing."
                    : $"Lines {from}–{to}, written by event {batch.Version}, are missing.");
            }
            return;
        }
        if (batch.Digest() != batch.Sha256)
        {
            Problem(ProblemKinds.LogLineChanged, batch.Version, null, null,
                $"Lines {batch.First}–{batch.Last} no longer match the digest event {batch.Version} recorded: a line's text, level, time or internal flag changed.");
        }
        else if (!batch.ErrorLines.SequenceEqual(batch.ErrorsSeen))
        {
            Problem(ProblemKinds.ErrorLinesChanged, batch.Version, null, null,
                $"The error lines event {batch.Version} carries are not the error lines among lines {batch.First}–{batch.Last}.");
        }
    }

    private void Removed(long from, long to, string why) =>
        Problem(ProblemKinds.EventRemoved, from, null, null, from == to
            ? $"Event {from} is missing ({why})."
            : $"Events {from}–{to} are missing ({why}).");

    private void Problem(string kind, long? version, long? line, string? file, string detail) =>
        _problems.Add(new LedgerProblem(kind, run, version, line, file, detail));

    private static IEnumerable<StoredFile> Files(JsonElement data, string name) =>
        data.TryGetProperty(name, out var files) && files.ValueKind == JsonValueKind.Array
            ? files.EnumerateArray()
                .Where(f => f.ValueKind == JsonValueKind.Object)
                .Select(f => new StoredFile(String(f, "name") ?? "", Long(f, "size") ?? -1, String(f, "content_type") ?? "", String(f, "sha256") ?? ""))
            : [];

    private static long? Long(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    private static string? String(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>One <see cref="LogAppended"/>'s lines as they are read: their digest, gaps and error lines.</summary>
    private sealed class Batch(long version, long first, long last, string sha256, List<string> errorLines)
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly Queue<string> _errors = new();

        public long Version => version;
        public long First => first;
        public long Last => last;
        public string Sha256 => sha256;
        public List<string> ErrorLines => errorLines;
        /// <summary>The id the next line must have; 0 until the first line comes.</summary>
        private long _next;
        public long Next => _next == 0 ? first : _next;
        public List<(long From, long To)> Missing { get; } = [];
        public IEnumerable<string> ErrorsSeen => _errors;

        public void Add(LogLine line)
        {
            if (line.Id > Next)
            {
                Missing.Add((Next, line.Id - 1));
            }
            _next = line.Id + 1;
            LogBatch.AppendToDigest(_hash, line);
            if (line.Level == LogLevel.Error && !line.Internal)
            {
                _errors.Enqueue(line.Message);
                if (_errors.Count > Domain.Run.LastErrorLinesKept)
                {
                    _errors.Dequeue();
                }
            }
        }

        public string Digest()
        {
            var digest = Convert.ToHexStringLower(_hash.GetHashAndReset());
            _hash.Dispose();
            return digest;
        }
    }
}
