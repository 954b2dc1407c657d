using System.Globalization;
using System.Text;

namespace Runs.Projections.Queries;

/// <summary>
/// Translates a <see cref="RunFilter"/> to a SQL condition over <c>mt_doc_run d</c>. Field names map to
/// fixed column expressions; every value becomes a parameter — nothing the client typed is concatenated.
/// </summary>
public sealed class FilterSql(List<object> parameters)
{
    public static readonly string[] Fields =
        ["create_time", "start_time", "end_time", "status", "trigger", "source", "created_by", "job", "duration", "labels.<key>"];

    private enum Kind
    {
        Text,
        Time,
        Number,
        Status,
    }

    public string Translate(RunFilter filter) => filter switch
    {
        RunFilter.All all => $"({Translate(all.Left)} and {Translate(all.Right)})",
        RunFilter.Any any => $"({Translate(any.Left)} or {Translate(any.Right)})",
        RunFilter.Not not => $"(not coalesce({Translate(not.Inner)}, false))",
        RunFilter.Compare compare => Comparison(compare),
        _ => throw new ArgumentOutOfRangeException(nameof(filter)),
    };

    private string Comparison(RunFilter.Compare c)
    {
        var (column, kind) = Column(c);
        var value = kind switch
        {
            Kind.Time => Rfc3339(c),
            Kind.Number => Number(c),
            Kind.Status => StatusName(c),
            _ => (object)c.Value,
        };
        var parameter = Add(value);
        var cast = kind switch { Kind.Time => "::timestamptz", Kind.Number => "::double precision", _ => "::text" };
        return c.Operator switch
        {
            "!=" => $"({column} is distinct from {parameter}{cast})",
            _ => $"({column} {c.Operator} {parameter}{cast})",
        };
    }

    private (string Column, Kind Kind) Column(RunFilter.Compare c) => c.Field switch
    {
        "create_time" => ("d.created__on", Kind.Time),
        "start_time" => ("(d.data ->> 'started_on')::timestamptz", Kind.Time),
        "end_time" => ("d.completed__on", Kind.Time),
        "status" => ("d.status", Kind.Status),
        "trigger" => ("(d.data ->> 'trigger')", Kind.Text),
        "source" => ("(d.data ->> 'source')", Kind.Text),
        "created_by" => ("(d.data ->> 'created_by')", Kind.Text),
        "job" => ("d.job", Kind.Text),
        "duration" => ("d.duration", Kind.Number),
        _ when c.Field.StartsWith("labels.", StringComparison.Ordinal) && c.Field.Length > "labels.".Length =>
            ($"(d.data -> 'labels' ->> {Add(c.Field["labels.".Length..])}::text)", Kind.Text),
        _ => throw new FilterError(c.Position, $"unknown field '{c.Field}'; expected one of {string.Join(", ", Fields)}."),
    };

    private string Add(object value)
    {
        parameters.Add(value);
        return $"${parameters.Count}";
    }

    private static DateTimeOffset Rfc3339(RunFilter.Compare c)
    {
        var text = c.Value;
        if (text is { Length: >= 20 } && (text[10] is 'T' or 't')
            && (text.EndsWith('Z') || text.EndsWith('z') || text[^6] is '+' or '-')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }
        throw new FilterError(c.Position, $"'{c.Field}' needs an RFC 3339 time such as \"2026-06-13T08:15:02Z\", not '{text}'.");
    }

    private static double Number(RunFilter.Compare c) =>
        double.TryParse(c.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? number
            : throw new FilterError(c.Position, $"'{c.Field}' needs a number of seconds, not '{c.Value}'.");

    private static string StatusName(RunFilter.Compare c) =>
        RunStatusNames.TryParse(c.Value, out var status)
            ? status.Name()
            : throw new FilterError(c.Position, $"'{c.Value}' is not a status; expected one of {string.Join(", ", Enum.GetValues<RunStatus>().Select(s => s.Name()))}.");
}
