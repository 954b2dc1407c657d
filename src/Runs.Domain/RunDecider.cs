namespace Runs.Domain;

/// <summary>The answer to a command: events to append, or why none can be.</summary>
public abstract record Decision
{
    /// <summary>Events to append, and the log lines a <see cref="LogAppended"/> among them describes.</summary>
    public sealed record Append(IReadOnlyList<object> Events, IReadOnlyList<LogLine>? Lines = null) : Decision;

    /// <summary>The run's state does not allow the action (409).</summary>
    public sealed record Conflict(RunStatus Current, string Action, string? Reason = null) : Decision
    {
        public string Detail => Reason ?? $"Cannot {Action} a run that is {Current.Name()}.";
    }

    /// <summary>The command is malformed given the run (400).</summary>
    public sealed record Invalid(string Field, string Message) : Decision;

    public static readonly Decision Nothing = new Append([]);
}

/// <summary>
/// The run's state machine: pending → running | canceled | rejected; running → paused | succeeded |
/// failed | canceled; paused → running | canceled | failed. Cancel of a finished run changes nothing.
/// </summary>
public static class RunDecider
{
    /// <summary>How far ahead of the server's clock a caller's <c>at</c> may be.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public static Decision Decide(Run run, RunCommand command, DateTimeOffset now)
    {
        if (Untimely(run, command.At, now, "at") is { } invalid)
        {
            return invalid;
        }
        var when = When(run, command, now);
        var id = run.Id;

        return (run.Status, command) switch
        {
            (_, Domain.RecordTelemetry) => throw new ArgumentException(
                $"Telemetry is decided against the run's limits: use {nameof(RunDecider)}.{nameof(RecordTelemetry)}.", nameof(command)),
            (RunStatus.Pending, StartRun c) => Events(new Started(id, c.Runner, when)),
            (RunStatus.Running, SucceedRun c) => Events(new Succeeded(id, c.ExitCode, when)),
            (RunStatus.Running or RunStatus.Paused, FailRun c) => Events(new Failed(id, c.ErrorSummary, c.ExitCode, when)),
            (RunStatus.Pending or RunStatus.Running or RunStatus.Paused, CancelRun c) => Events(new Canceled(id, c.Reason, when)),
            (_, CancelRun) when run.Status.IsTerminal() => Decision.Nothing,
            (RunStatus.Running, PauseRun c) => Events(new Paused(id, c.Reason, when)),
            (RunStatus.Paused, ContinueRun) => Events(new Resumed(id, when)),
            (RunStatus.Pending, RejectRun c) => Events(new Rejected(id, c.Reason, when)),
            (RunStatus.Pending or RunStatus.Running or RunStatus.Paused, ReportResult c) =>
                Events(new ResultReported(id, c.ErrorSummary, c.ExitCode, when)),
            _ => new Decision.Conflict(run.Status, command.Action),
        };
    }

    /// <summary>Why a caller's time cannot be an event's time: before the run's last event, or too far ahead.</summary>
    public static Decision.Invalid? Untimely(Run run, DateTimeOffset? at, DateTimeOffset now, string field)
    {
        if (at is { } past && past < run.LastModified)
        {
            return new Decision.Invalid(field,
                $"'{field}' ({past.UtcDateTime:O}) is before the run's previous event ({run.LastModified.UtcDateTime:O}).");
        }
        if (at is { } future && future > now + MaxClockSkew)
        {
            return new Decision.Invalid(field, $"'{field}' ({future.UtcDateTime:O}) is in the future; times may lead the server's clock by at most {MaxClockSkew.TotalMinutes} minutes.");
        }
        return null;
    }

    /// <summary>
    /// Output replaces the run's output, in any state, until its retention expires; it never moves the run's
    /// clock backwards.
    /// </summary>
    public static Decision AttachOutput(Run run, IReadOnlyList<StoredFile> files, DateTimeOffset now) =>
        run.ExpiredOn is null
            ? new Decision.Append([new OutputAttached(run.Id, files, now > run.LastModified ? now : run.LastModified)])
            : new Decision.Conflict(run.Status, "attach output to", "Cannot attach output to a run whose retention has expired.");

    /// <summary>Telemetry is accepted while the run is not terminal, and only while the run stays within <paramref name="limits"/>.</summary>
    public static Decision RecordTelemetry(Run run, RecordTelemetry command, TelemetryLimits limits, DateTimeOffset now)
    {
        if (Untimely(run, command.At, now, "at") is { } problem)
        {
            return problem;
        }
        if (!run.AcceptsAppends())
        {
            return new Decision.Conflict(run.Status, command.Action);
        }
        return (Decision?)limits.Refusal(run, command)
            ?? Events(new TelemetrySampled(run.Id, command.Summary, command.Samples, When(run, command, now)));
    }

    /// <summary>A clock behind the caller's earlier 'at' must not make history run backwards.</summary>
    private static DateTimeOffset When(Run run, RunCommand command, DateTimeOffset now) =>
        command.At ?? (now > run.LastModified ? now : run.LastModified);

    /// <summary>
    /// The run as triggered, its id from the trigger time. Argv and command are scrubbed like log lines, since
    /// they are shown to every reader: a credential the runner needs belongs in a secret env entry, not on its
    /// command line. Secret env values are kept only sealed.
    /// </summary>
    public static Triggered Trigger(Trigger command, string actor, DateTimeOffset now, Func<IEnumerable<string>, Scrubber> scrubberOf, Func<string, string> seal)
    {
        var scrubber = scrubberOf(command.Env.Where(e => e.Secret).Select(e => e.Value));
        return new(
            RunId: RunId.New(now),
            Job: command.Job,
            Trigger: command.Kind ?? "api",
            Source: command.Source,
            Input: command.Input,
            Argv: command.Argv is null ? null : [.. command.Argv.Select(scrubber.Scrub)],
            Command: command.Command is null ? null : scrubber.Scrub(command.Command),
            Entrypoint: command.Entrypoint,
            Env: [.. command.Env.Select(e => e.Secret ? e with { Value = seal(e.Value) } : e)],
            Labels: command.Labels ?? new Dictionary<string, string>(),
            PreviousRun: command.PreviousRun,
            InputFiles: command.InputFiles,
            CreatedBy: actor,
            At: now);
    }

    /// <summary>A final telemetry summary, when given, is recorded first, then the run succeeds; both or neither.</summary>
    public static Decision Succeed(
        Run run, SucceedRun command, IReadOnlyDictionary<string, System.Text.Json.JsonElement>? summary, TelemetryLimits limits, DateTimeOffset now) =>
        DecideAll(run, [
            .. summary is null
                ? Array.Empty<Func<Run, Decision>>()
                : [r => RecordTelemetry(r, new RecordTelemetry(summary, [], command.At), limits, now)],
            r => Decide(r, command, now),
        ]);

    /// <summary>
    /// One PATCH is one change: every event it appends takes the call's time, <c>finished_at</c> when given;
    /// all its steps are decided together, so it applies whole or not at all.
    /// </summary>
    public static Decision Patch(Run run, PatchRun command, LogLimits logLimits, TelemetryLimits telemetryLimits, Scrubber scrubber, DateTimeOffset now)
    {
        var at = command.FinishedAt;
        if (Untimely(run, at, now, "finished_at") is { } untimely)
        {
            return untimely;
        }
        var when = at ?? now;
        var steps = new List<Func<Run, Decision>>();
        if (command.AppendLog is { } line)
        {
            steps.Add(r => AppendLog(r, [line], logLimits, scrubber, when));
        }
        if (command.TelemetrySummary is not null || command.TelemetrySample is not null)
        {
            IReadOnlyList<IReadOnlyDictionary<string, System.Text.Json.JsonElement>> samples = command.TelemetrySample is { } sample ? [sample] : [];
            steps.Add(r => RecordTelemetry(r, new RecordTelemetry(command.TelemetrySummary, samples, at), telemetryLimits, now));
        }
        if (command.ErrorSummary is not null || command.ExitCode is not null)
        {
            var summary = command.ErrorSummary is null ? null : scrubber.Scrub(command.ErrorSummary);
            steps.Add(r => Decide(r, new ReportResult(summary, command.ExitCode, at), now));
        }
        if (command.Status is { } status)
        {
            steps.Add(r => ChangeStatus(r, status, at, now));
        }
        return DecideAll(run, steps);
    }

    private static Decision ChangeStatus(Run run, string status, DateTimeOffset? at, DateTimeOffset now) => status switch
    {
        "running" when run.Status == RunStatus.Paused => Decide(run, new ContinueRun(at), now),
        "running" => Decide(run, new StartRun(null, at), now),
        "succeeded" => Decide(run, new SucceedRun(null, at), now),
        "failed" when run.ErrorSummary is null && run.Status is RunStatus.Running or RunStatus.Paused =>
            new Decision.Invalid("error_summary", "'status: failed' needs an 'error_summary', in this call or earlier."),
        "failed" => Decide(run, new FailRun(run.ErrorSummary ?? "", null, at), now),
        _ => Decide(run, new CancelRun(null, at), now),
    };

    /// <summary>Decides steps in order, each against the run the earlier ones left; all or nothing.</summary>
    public static Decision DecideAll(Run run, IEnumerable<Func<Run, Decision>> steps)
    {
        var events = new List<object>();
        var lines = new List<LogLine>();
        foreach (var step in steps)
        {
            var decision = step(run);
            if (decision is not Decision.Append append)
            {
                return decision;
            }
            foreach (var e in append.Events)
            {
                run = Run.Fold(run, e);
                events.Add(e);
            }
            lines.AddRange(append.Lines ?? []);
        }
        return new Decision.Append(events, lines);
    }

    /// <summary>Appends a batch of log lines, if the run still accepts them.</summary>
    public static Decision AppendLog(Run run, IReadOnlyList<LogLineInput> lines, LogLimits limits, Scrubber scrubber, DateTimeOffset now)
    {
        if (!run.AcceptsAppends())
        {
            return new Decision.Conflict(run.Status, "append log lines to");
        }
        var (stored, appended) = LogBatch.Append(run, lines, limits, scrubber, now > run.LastModified ? now : run.LastModified);
        return new Decision.Append([appended], stored);
    }

    public static bool AcceptsAppends(this Run run) => !run.Status.IsTerminal();

    private static Decision.Append Events(params object[] events) => new(events);
}
