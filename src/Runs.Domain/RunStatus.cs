using System.Reflection;
using System.Text.Json.Serialization;

namespace Runs.Domain;

/// <summary>
/// A run's status. Each name below is the one vocabulary: stored in the run's document and its status
/// column, written in filters and raw SQL, and spoken by the API.
/// </summary>
public enum RunStatus
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("paused")] Paused,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("canceled")] Canceled,
    [JsonStringEnumMemberName("rejected")] Rejected,
}

public static class RunStatusNames
{
    private static readonly string[] Names = [.. Enum.GetValues<RunStatus>()
        .Select(s => typeof(RunStatus).GetField(s.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()!.Name)];

    public static string Name(this RunStatus status) => Names[(int)status];

    public static bool IsTerminal(this RunStatus status) =>
        status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Canceled or RunStatus.Rejected;

    public static bool TryParse(string? text, out RunStatus status)
    {
        var index = Array.IndexOf(Names, text);
        status = index < 0 ? default : (RunStatus)index;
        return index >= 0;
    }
}
