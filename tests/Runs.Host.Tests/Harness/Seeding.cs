
namespace Runs.Host.Tests.Harness;

/// <summary>Runs written straight as events, with the times a test needs (the API stamps the server's time).</summary>
public static class Seeding
{
    public static async Task<string> SeedRunAsync(
        this RunsHost host, string job, DateTimeOffset createdOn, RunStatus status = RunStatus.Pending,
        double? seconds = null, string trigger = "api", string? source = null, IReadOnlyDictionary<string, string>? labels = null,
        string createdBy = "seeder", string? id = null)
    {
        await using var session = host.Store.LightweightSession();
        id ??= RunId.New(createdOn);
        session.Events.StartStream<Run>(id, Events(id, job, createdOn, status, seconds, trigger, source, labels, createdBy));
        await session.SaveChangesAsync();
        return id;
    }

    /// <summary>Many runs in one transaction.</summary>
    public static async Task SeedManyAsync(this RunsHost host, string job, int count, DateTimeOffset start)
    {
        await using var session = host.Store.LightweightSession();
        for (var i = 0; i < count; i++)
        {
            var at = start.AddSeconds(i);
            var id = RunId.New(at);
            session.Events.StartStream<Run>(id, Events(id, job, at, RunStatus.Succeeded, 1 + i % 10, "schedule", null, null, "seeder"));
        }
        await session.SaveChangesAsync();
    }

    private static object[] Events(
        string id, string job, DateTimeOffset at, RunStatus status, double? seconds, string trigger, string? source,
        IReadOnlyDictionary<string, string>? labels, string createdBy)
    {
        var events = new List<object>
        {
            new Triggered(id, job, trigger, source, null, null, null, null, [], labels ?? new Dictionary<string, string>(), null, [], createdBy, at),
        };
        var started = at.AddSeconds(1);
        var ended = started.AddSeconds(seconds ?? 0);
        switch (status)
        {
            case RunStatus.Running: events.Add(new Started(id, null, started)); break;
            case RunStatus.Paused: events.AddRange([new Started(id, null, started), new Paused(id, "hold", started)]); break;
            case RunStatus.Succeeded: events.AddRange([new Started(id, null, started), new Succeeded(id, 0, ended)]); break;
            case RunStatus.Failed: events.AddRange([new Started(id, null, started), new Failed(id, "boom", 1, ended)]); break;
            case RunStatus.Canceled: events.Add(new Canceled(id, null, started)); break;
            case RunStatus.Rejected: events.Add(new Rejected(id, "no", started)); break;
        }
        return [.. events];
    }
}
