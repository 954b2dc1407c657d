using System.Globalization;
using System.Text.Json;
using Marten;
using Npgsql;
using Runs.Domain;
using Runs.Host.Access;
using Runs.Host.Http;
using Runs.Host.Runs.Listing;
using Runs.Host.Runs.Reading;
using Runs.Projections;
using Runs.Projections.Ledger;
using Runs.Projections.Queries;
using Wolverine.Http;

namespace Runs.Host.Runs.History;

public sealed record EventMetadataView(string? User, string? CorrelationId, string? CausationId);

/// <summary>An event as stored, with its link in the run's chain (<c>hash</c>, <c>previous_hash</c>; null when it has none).</summary>
public sealed record EventView(long Sequence, long Version, string Type, DateTimeOffset Timestamp, JsonElement Data, EventMetadataView Metadata, string? Hash, string? PreviousHash);

public sealed record EventPage(IReadOnlyList<EventView> Events, string? NextPageToken);

/// <summary>An auditor's view of a run: its events, oldest first, exactly as stored.</summary>
public static class RunEventsEndpoint
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>Event type names as clients see them (PascalCase) → as Marten stores them.</summary>
    private static readonly Dictionary<string, string> StoredNames = RunsStore.EventTypes
        .ToDictionary(t => t.Name, t => JsonNamingPolicy.SnakeCaseLower.ConvertName(t.Name));

    private static readonly Dictionary<string, string> ClientNames = StoredNames.ToDictionary(p => p.Value, p => p.Key);

    [WolverineGet("/v1/jobs/{job}/runs/{run}/events", OperationId = "listRunEvents", Summary = "List a run's events")]
    [Tags("Auditing")]
    [ProducesResponseType<EventPage>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(string job, string run, HttpContext http, IQuerySession session, NpgsqlDataSource database, JsonBody json)
    {
        if (http.User.Refuse(Scopes.RunsRead, job) is { } refused)
        {
            return refused;
        }
        if (await RunLookup.FindAsync(session, job, run, http.RequestAborted) is null)
        {
            return Problems.NotFound($"No run '{run}' in job '{job}'.");
        }

        var query = http.Request.Query;
        var (pageSize, sizeProblem) = PageSize.Parse(http.Request, DefaultPageSize, MaxPageSize);
        if (sizeProblem is not null)
        {
            return sizeProblem;
        }
        long after = 0;
        if (query.TryGetValue("page_token", out var token) && !string.IsNullOrEmpty(token)
            && (!token.ToString().StartsWith('v') || !long.TryParse(token.ToString()[1..], NumberStyles.None, CultureInfo.InvariantCulture, out after)))
        {
            return Problems.Invalid("page_token", "'page_token' is not one this service handed out.");
        }

        var parameters = new List<object> { run, after };
        string? typeCondition = null;
        if (!string.IsNullOrWhiteSpace(query["filter"]))
        {
            try
            {
                typeCondition = TypeCondition(RunFilter.Parse(query["filter"]!), parameters);
            }
            catch (FilterError error)
            {
                return Filters.Problem(error);
            }
        }
        parameters.Add(pageSize + 1);

        await using var command = database.CreateCommand(
            $"select e.seq_id, e.version, e.type, e.timestamp, e.data, e.user_name, e.correlation_id, e.causation_id, l.hash, l.previous_hash " +
            $"from {RunsStore.Schema}.mt_events e left join {RunsStore.Schema}.{LedgerTables.Links} l on l.run_id = e.stream_id and l.version = e.version " +
            "where e.stream_id = $1 and e.version > $2" +
            (typeCondition is null ? "" : $" and {typeCondition}") +
            $" order by e.version limit ${parameters.Count}");
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        var events = new List<EventView>();
        await using (var reader = await command.ExecuteReaderAsync(http.RequestAborted))
        {
            while (await reader.ReadAsync(http.RequestAborted))
            {
                var data = EventTimes.Normalise(reader.GetString(4));
                events.Add(new EventView(
                    reader.GetInt64(0),
                    reader.GetInt64(1),
                    ClientNames.GetValueOrDefault(reader.GetString(2), reader.GetString(2)),
                    reader.GetFieldValue<DateTimeOffset>(3),
                    data,
                    new EventMetadataView(
                        reader.IsDBNull(5) ? null : reader.GetString(5),
                        reader.IsDBNull(6) ? null : reader.GetString(6),
                        reader.IsDBNull(7) ? null : reader.GetString(7)),
                    reader.IsDBNull(8) ? null : reader.GetString(8),
                    reader.IsDBNull(9) ? null : reader.GetString(9)));
            }
        }
        var next = events.Count > pageSize ? $"v{events[pageSize - 1].Version}" : null;
        // Event data is stored client JSON, wrapped here three levels deeper.
        return Results.Json(new EventPage([.. events.Take(pageSize)], next), json.StoredJsonOptions);
    }

    /// <summary>The events filter knows one field, <c>type</c>, with = and !=, AND, OR and NOT.</summary>
    private static string TypeCondition(RunFilter filter, List<object> parameters) => filter switch
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
