namespace Runs.Domain;

public enum RunStatus
{
    Pending,
    Running,
    Paused,
    Succeeded,
    Failed,
    Canceled,
    Rejected,
}

public static class RunStatusNames
{
    public static string Name(this RunStatus status) => status switch
    {
        RunStatus.Pending => "pending",
        RunStatus.Running => "running",
        RunStatus.Paused => "paused",
        RunStatus.Succeeded => "succeeded",
        RunStatus.Failed => "failed",
        RunStatus.Canceled => "canceled",
        RunStatus.Rejected => "rejected",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool IsTerminal(this RunStatus status) =>
        status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Canceled or RunStatus.Rejected;

    public static bool TryParse(string? text, out RunStatus status)
    {
        foreach (var candidate in Enum.GetValues<RunStatus>())
        {
            if (candidate.Name() == text)
            {
                status = candidate;
                return true;
            }
        }
        status = default;
        return false;
    }
}
