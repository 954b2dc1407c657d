
namespace Runs.Host.Runs.History;

public sealed record EventMetadataView(string? User, string? CorrelationId, string? CausationId);

/// <summary>An event as stored, with its link in the run's chain (<c>hash</c>, <c>previous_hash</c>; null when it has none).</summary>
public sealed record EventView(long Sequence, long Version, string Type, DateTimeOffset Timestamp, JsonElement Data, EventMetadataView Metadata, string? Hash, string? PreviousHash);

public sealed record EventPage(IReadOnlyList<EventView> Events, string? NextPageToken);

/// <summary>The query of <c>GET .../events</c>: a page size, the page token a previous page gave, a filter on <c>type</c>.</summary>
public sealed record EventQuery(int PageSize, long After, RunFilter? Filter) : IQueryRequest<EventQuery>
{
    public static (EventQuery? Query, IResult? Refusal) Read(HttpRequest request)
    {
        var query = request.Query;
        var (pageSize, afterVersion, pageProblem) = Http.PageSize.WithToken(request, RunEventsEndpoint.DefaultPageSize, RunEventsEndpoint.MaxPageSize,
            text => text.StartsWith('v') && long.TryParse(text[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : (long?)null);
        if (pageProblem is not null)
        {
            return (null, pageProblem);
        }
        var after = afterVersion ?? 0;
        if (string.IsNullOrWhiteSpace(query["filter"]))
        {
            return (new EventQuery(pageSize, after, null), null);
        }
        try
        {
            var filter = RunFilter.Parse(query["filter"]!);
            // Translated once here so an unknown type or field is a 400 before any query runs.
            RunEventsEndpoint.TypeCondition(filter, []);
            return (new EventQuery(pageSize, after, filter), null);
        }
        catch (FilterError error)
        {
            return (null, Filters.Problem(error));
        }
    }

    public static IEnumerable<OpenApiParameter> Parameters =>
    [
        QueryParameters.Of("filter", "AIP-160 over the event's type, such as type = \"LogAppended\" OR type = \"Failed\"."),
        .. QueryParameters.Paging(RunEventsEndpoint.DefaultPageSize, RunEventsEndpoint.MaxPageSize, "Events"),
    ];
}

/// <summary>An auditor's view of a run: its events, oldest first, exactly as stored.</summary>
public static class RunEventsEndpoint
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>Event type names as clients see them (PascalCase) → as Marten stores them.</summary>
    private static readonly Dictionary<string, string> StoredNames = RunsStore.EventTypes
        .ToDictionary(t => t.Name, t => JsonNamingPolicy.SnakeCaseLower.ConvertName(t.Name));

    private static readonly Dictionary<string, string> ClientNames = StoredNames.ToDictionary(p => p.Value, p => p.Key);

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/events", OperationId = "listRunEvents", Summary = "List a run's events")]
    [Tags("Auditing")]
    [ProducesResponseType<EventPage>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(EventQuery query, Run run, HttpContext http, NpgsqlDataSource database, IOptions<RunsOptions> options)
    {
        var parameters = new List<object> { run.Id, query.After };
        var typeCondition = query.Filter is null ? null : TypeCondition(query.Filter, parameters);
        await WritePageAsync(http, database, parameters, typeCondition, query.PageSize, options.Value.Events.MaxPageBytes);
        return Results.Empty;
    }

    /// <summary>Events read per query at first, before their size is known: few enough that one too many costs little.</summary>
    private const int FirstBatch = 8;

    /// <summary>
    /// Writes one page straight to the response: up to <paramref name="pageSize"/> events, ending with the event
    /// that reaches <paramref name="maxBytes"/> of JSON. Events are read in batches sized by what the previous
    /// ones weighed, each batch one query whose connection is released before the batch goes to the client:
    /// memory stays near one batch, and a slow reader holds no connection.
    /// </summary>
    private static async Task WritePageAsync(
        HttpContext http, NpgsqlDataSource database, List<object> parameters, string? typeCondition, int pageSize, long maxBytes)
    {
        var cancellation = http.RequestAborted;
        var filter = $"e.stream_id = $1 and e.version > $2{(typeCondition is null ? "" : $" and {typeCondition}")}";
        http.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteStartArray("events");
        var written = 0;
        var full = false;
        var batch = FirstBatch;
        while (written < pageSize && !full)
        {
            var wanted = Math.Min(batch, pageSize - written);
            var read = 0;
            await using (var command = database.CreateCommand(
                "select e.seq_id, e.version, e.type, e.timestamp, e.data, e.user_name, e.correlation_id, e.causation_id, l.hash, l.previous_hash " +
                $"from {RunsStore.Schema}.mt_events e left join {RunsStore.Schema}.{LedgerTables.Links} l on l.run_id = e.stream_id and l.version = e.version " +
                $"where {filter} order by e.version limit {wanted}"))
            {
                Bind(command, parameters);
                await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
                while (!full && await reader.ReadAsync(cancellation))
                {
                    read++;
                    written++;
                    parameters[1] = WriteEvent(writer, reader);
                    full = writer.BytesCommitted + writer.BytesPending >= maxBytes;
                }
            }
            await writer.FlushAsync(cancellation);
            if (read < wanted && !full)
            {
                break;
            }
            var perEvent = Math.Max(1, (writer.BytesCommitted + writer.BytesPending) / written);
            batch = (int)Math.Clamp((maxBytes - (writer.BytesCommitted + writer.BytesPending)) / perEvent + 1, 1, MaxPageSize);
        }
        writer.WriteEndArray();
        var more = (full || written == pageSize) && await AnyAfterAsync(database, filter, parameters, cancellation);
        writer.WriteString("next_page_token", more ? $"v{parameters[1]}" : null);
        writer.WriteEndObject();
        await writer.FlushAsync(cancellation);
    }

    /// <summary>
    /// One <see cref="EventView"/>, written field by field (columns in order: the reader is sequential); the
    /// stored data goes through as it is, times normalised. Gives the event's version.
    /// </summary>
    private static long WriteEvent(Utf8JsonWriter writer, NpgsqlDataReader reader)
    {
        writer.WriteStartObject();
        writer.WriteNumber("sequence", reader.GetInt64(0));
        var version = reader.GetInt64(1);
        writer.WriteNumber("version", version);
        var type = reader.GetString(2);
        writer.WriteString("type", ClientNames.GetValueOrDefault(type, type));
        writer.WriteString("timestamp", Rfc3339Converter.Text(reader.GetFieldValue<DateTimeOffset>(3)));
        writer.WritePropertyName("data");
        EventTimes.Normalise(reader.GetString(4)).WriteTo(writer);
        writer.WriteStartObject("metadata");
        writer.WriteString("user", reader.IsDBNull(5) ? null : reader.GetString(5));
        writer.WriteString("correlation_id", reader.IsDBNull(6) ? null : reader.GetString(6));
        writer.WriteString("causation_id", reader.IsDBNull(7) ? null : reader.GetString(7));
        writer.WriteEndObject();
        writer.WriteString("hash", reader.IsDBNull(8) ? null : reader.GetString(8));
        writer.WriteString("previous_hash", reader.IsDBNull(9) ? null : reader.GetString(9));
        writer.WriteEndObject();
        return version;
    }

    private static async Task<bool> AnyAfterAsync(NpgsqlDataSource database, string filter, List<object> parameters, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand($"select exists (select 1 from {RunsStore.Schema}.mt_events e where {filter})");
        Bind(command, parameters);
        return await command.ExecuteScalarAsync(cancellation) is true;
    }

    private static void Bind(NpgsqlCommand command, List<object> parameters)
    {
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
    }

    /// <summary>The events filter knows one field, <c>type</c>, with = and !=, AND, OR and NOT.</summary>
    internal static string TypeCondition(RunFilter filter, List<object> parameters) => filter switch
    {
        RunFilter.All all => $"({TypeCondition(all.Left, parameters)} and {TypeCondition(all.Right, parameters)})",
        RunFilter.Any any => $"({TypeCondition(any.Left, parameters)} or {TypeCondition(any.Right, parameters)})",
        RunFilter.Not not => $"(not {TypeCondition(not.Inner, parameters)})",
        RunFilter.Compare { Field: "type", Operator: "=" or "!=" } c when StoredNames.TryGetValue(c.Value, out var stored) =>
            Add(parameters, stored, c.Operator),
        RunFilter.Compare { Field: "type", Operator: "=" or "!=" } c =>
            throw new FilterError(c.Position, $"'{c.Value}' is not an event type; expected one of {string.Join(", ", StoredNames.Keys)}."),
        RunFilter.Compare { Field: "type" } c => throw new FilterError(c.Position, "'type' can only be compared with = or !=."),
        RunFilter.Compare c => throw new FilterError(c.Position, $"unknown field '{c.Field}'; the events filter knows 'type'."),
        _ => throw new ArgumentOutOfRangeException(nameof(filter)),
    };

    private static string Add(List<object> parameters, string stored, string op)
    {
        parameters.Add(stored);
        return $"(e.type {(op == "=" ? "=" : "<>")} ${parameters.Count})";
    }
}
