using System.Globalization;
using System.Net;
using Runs.Faults.Tests.Harness;

namespace Runs.Faults.Tests;

/// <summary>
/// Real host processes under load, broken the ways production breaks them. Each scenario checks what a user
/// relies on — nothing acknowledged is lost, nothing retried is doubled, every ended run is delivered under
/// one webhook-id, an outage answers 503 and never 500, the host recovers by itself — and prints how long
/// failover and a restart took (figures, recorded in docs/benchmarks.md; deadlines here only guard against
/// hangs). One scenario at a time: they restart the shared PostgreSQL and compete for two cores.
/// </summary>
public sealed class FaultTests(ITestOutputHelper output)
{
    private const int Clients = 4;
    private const int Owed = 5;
    private const int WarmUpRuns = 20;
    private const int RunsAfterFault = 10;
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Deliveries = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Think = TimeSpan.FromMilliseconds(20);

    private readonly DateTimeOffset _began = DateTimeOffset.UtcNow;

    /// <summary>A figure: into the test's output and, when ./test.sh names a file (<c>RUNS_FAULT_FIGURES</c>), there, for its summary.</summary>
    private void Say(string line)
    {
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("RUNS_FAULT_FIGURES") is { Length: > 0 } figures)
        {
            File.AppendAllText(figures, line + Environment.NewLine);
        }
    }

    /// <summary>Where the scenario's time went, so a slow run can be told from a hung one.</summary>
    private void Phase(string name) => output.WriteLine($"  [{Seconds((DateTimeOffset.UtcNow - _began).TotalSeconds)}] {name}");

    /// <summary>With <c>FAULTS_VERBOSE=1</c>, the host's log (Wolverine's at Information) goes into the output.</summary>
    private void SayLog(HostProcess host)
    {
        if (HostProcess.Verbose)
        {
            Say($"--- log of host {host.Name}:\n{host.Output}");
        }
    }

    private static string Seconds(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    private static async Task<(Deployment, HookReceiver, HostProcess)> StartAsync(string name)
    {
        var deployment = await Deployment.CreateAsync(name);
        var receiver = await HookReceiver.StartAsync(Think);
        var host = HostProcess.Start("a", deployment.Settings);
        try
        {
            await host.WaitUntilReadyAsync(Ready);
            await deployment.IssueTokenAsync();
            await Checks.SubscribeAsync(host.Url, deployment.Token, receiver.Url);
            return (deployment, receiver, host);
        }
        catch
        {
            await host.DisposeAsync();
            await receiver.DisposeAsync();
            throw;
        }
    }

    private static async Task UntilAsync(Func<bool> condition, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (!condition() && DateTime.UtcNow < until)
        {
            await Task.Delay(100);
        }
    }

    /// <summary>Load for a while, so writes are in flight when the fault strikes.</summary>
    private static Task WarmUpAsync(Ledger ledger, int endedRuns) =>
        UntilAsync(() => ledger.Runs.Values.Count(r => r.Terminal is not null) >= endedRuns, TimeSpan.FromSeconds(60));

    /// <summary>
    /// Holds the receiver until <paramref name="owed"/> more runs have ended (on <paramref name="host"/>, when
    /// given), so that many deliveries wait in a host's inbox when it is killed; answers when the receiver
    /// stopped answering and when the host was killed.
    /// </summary>
    private static async Task<(DateTimeOffset Held, DateTimeOffset Killed)> KillWithDeliveriesOwedAsync(Ledger ledger, HookReceiver receiver, HostProcess victim, int owed, string? host = null)
    {
        receiver.Hold();
        var held = DateTimeOffset.UtcNow;
        await UntilAsync(() => ledger.Runs.Values.Count(r => r.TerminalAcknowledgedAt > held && (host is null || r.TerminalHost == host)) >= owed,
            TimeSpan.FromSeconds(60));
        var killed = DateTimeOffset.UtcNow;
        await victim.KillAsync();
        receiver.Release();
        return (held, killed);
    }

    [Fact]
    public async Task A_host_killed_under_load_and_restarted_loses_nothing_and_delivers_what_it_owed()
    {
        var (deployment, receiver, host) = await StartAsync("kill");
        await using var _ = receiver;
        await using var __ = host;
        var port = new Uri(host.Url).Port;
        await using var load = new Load([host.Url], deployment.Token);
        Phase("hosts ready");
        load.Start(Clients);
        await WarmUpAsync(load.Ledger, WarmUpRuns);
        Phase("load warmed up");

        var (held, killed) = await KillWithDeliveriesOwedAsync(load.Ledger, receiver, host, Owed);
        await using var restarted = HostProcess.Start("a-again", deployment.Settings, port);
        var ready = await restarted.WaitUntilReadyAsync(Ready);
        var toReady = (ready - restarted.StartedAt).TotalSeconds;

        var resumed = load.Ledger.Runs.Count;
        await UntilAsync(() => load.Ledger.Runs.Count >= resumed + RunsAfterFault, TimeSpan.FromSeconds(60));
        Phase("fault over");
        await load.StopAsync();
        Phase("load stopped");
        await Checks.WaitForDeliveriesAsync(load.Ledger, receiver, Deliveries);
        Phase("deliveries in");

        var (owed, first, last) = await Checks.FailoverAsync(receiver, Checks.Owed(load.Ledger, receiver, held, killed), killed, Deliveries);
        var figures = await Checks.VerifyAsync(deployment, load.Ledger, receiver, host, restarted);
        Say($"kill -9 and restart: restarted host ready {Seconds(toReady)} after its start ({Seconds((ready - killed).TotalSeconds)} after the kill); " +
            $"{owed} deliveries owed at the kill arrived {Seconds(first)}–{Seconds(last)} after it");
        Say("  " + figures);
        SayLog(restarted);
    }

    [Fact]
    public async Task PostgreSQL_restarted_under_load_answers_503_never_500_and_the_host_recovers_by_itself()
    {
        var (deployment, receiver, host) = await StartAsync("pgrestart");
        await using var _ = receiver;
        await using var __ = host;
        await using var load = new Load([host.Url], deployment.Token);
        await using var readiness = new ReadinessWatch(host.Url);
        Phase("hosts ready");
        load.Start(Clients);
        await WarmUpAsync(load.Ledger, WarmUpRuns);
        Phase("load warmed up");

        // Down until the host has noticed (its readiness went away), however quickly a restart would have brought
        // PostgreSQL back: under a paced load a restart's outage could end between two readiness probes.
        var before = load.Ledger.Refusals.Count;
        var restart = DateTimeOffset.UtcNow;
        await Postgres.StopAsync();
        try
        {
            await readiness.WaitForUnreadyAfterAsync(restart, Ready);
        }
        finally
        {
            // Started again whatever happened, so a failure here does not leave the next scenario without a database.
            await Postgres.StartAsync();
        }
        var restarted = DateTimeOffset.UtcNow;

        // Recovery without touching the host: its readiness comes back and the load's writes go through again.
        var unready = await readiness.WaitForReadyAfterAsync(restart, Ready);
        var acknowledged = load.Ledger.Runs.Values.Count(r => r.TerminalAcknowledgedAt > restarted);
        await UntilAsync(() => load.Ledger.Runs.Values.Count(r => r.TerminalAcknowledgedAt > restarted) >= acknowledged + RunsAfterFault, TimeSpan.FromSeconds(60));
        Assert.False(host.HasExited, $"the host died with PostgreSQL:\n{host.Output}");
        Phase("fault over");
        await load.StopAsync();
        Phase("load stopped");
        await Checks.WaitForDeliveriesAsync(load.Ledger, receiver, Deliveries);
        Phase("deliveries in");
        SayLog(host);

        var figures = await Checks.VerifyAsync(deployment, load.Ledger, receiver, host);
        var refusals = load.Ledger.Refusals.Skip(before).ToList();
        var outage = refusals.Count == 0 ? 0 : (refusals.Max() - restart).TotalSeconds;
        Assert.True(load.Ledger.Count(503) + load.Ledger.NetworkErrors > 0, "the restart was not noticed by the load; nothing was tested");
        Say($"PostgreSQL restart: pg_ctlcluster stop, then start once the host's readiness had gone, took {Seconds((restarted - restart).TotalSeconds)}; {refusals.Count} requests refused (503 or dropped), " +
            $"the last {Seconds(outage)} after the restart began; /health/ready unready for {Seconds(unready.TotalSeconds)}, " +
            $"then ready again {Seconds((readiness.ReadyAgainAt - restart).TotalSeconds)} after the restart began");
        Say("  " + figures);
    }

    [Fact]
    public async Task Two_hosts_on_one_database_one_stopped_then_one_killed_the_other_takes_over_its_deliveries()
    {
        var (deployment, receiver, a) = await StartAsync("twohosts");
        await using var _ = receiver;
        await using var __ = a;
        var port = HostProcess.FreePort();
        await using var b = HostProcess.Start("b", deployment.Settings, port);
        await b.WaitUntilReadyAsync(Ready);
        Phase("hosts ready");
        await using var load = new Load([a.Url, b.Url], deployment.Token);
        load.Start(Clients);
        await WarmUpAsync(load.Ledger, WarmUpRuns);
        Phase("load warmed up");

        // SIGTERM: b finishes what it is doing, hands its deliveries back and exits; a sends them at once.
        receiver.Hold();
        var held = DateTimeOffset.UtcNow;
        await UntilAsync(() => load.Ledger.Runs.Values.Count(r => r.TerminalAcknowledgedAt > held && r.TerminalHost == b.Url) >= Owed, TimeSpan.FromSeconds(60));
        var stopped = DateTimeOffset.UtcNow;
        b.Terminate();
        receiver.Release();
        Assert.True(await b.WaitForExitAsync(TimeSpan.FromSeconds(90)), $"b did not exit after SIGTERM:\n{b.Output}");
        var exited = DateTimeOffset.UtcNow;
        Assert.True(b.ExitCode == 0, $"b exited with {b.ExitCode} after SIGTERM:\n{b.Output}");
        // Deliveries b had in flight finish there during the drain; those it had not begun are owed.
        var (handedBack, handedFirst, handedLast) = await Checks.FailoverAsync(receiver, Checks.Owed(load.Ledger, receiver, stopped, stopped, b.Url), stopped, Deliveries);
        Phase("b stopped");

        await using var again = HostProcess.Start("b-again", deployment.Settings, port);
        var ready = await again.WaitUntilReadyAsync(Ready);
        var toReady = (ready - again.StartedAt).TotalSeconds;
        await UntilAsync(() => load.Ledger.Runs.Values.Count(r => r.TerminalHost == again.Url && r.TerminalAcknowledgedAt > ready) >= RunsAfterFault, TimeSpan.FromSeconds(60));
        Phase("b back");

        var (killHeld, killed) = await KillWithDeliveriesOwedAsync(load.Ledger, receiver, again, Owed, again.Url);
        var owedAtKill = Checks.Owed(load.Ledger, receiver, killHeld, killed, again.Url);
        var resumed = load.Ledger.Runs.Count;
        await UntilAsync(() => load.Ledger.Runs.Count >= resumed + RunsAfterFault, TimeSpan.FromSeconds(60));
        Phase("fault over");
        await load.StopAsync();
        Phase("load stopped");
        var (owed, first, last) = await Checks.FailoverAsync(receiver, owedAtKill, killed, Deliveries);
        // As in the other scenarios, every delivery before the checks, not only those owed at the kill: the last
        // runs' deliveries, and any the survivor takes over from the dead host, may still be on their way.
        await Checks.WaitForDeliveriesAsync(load.Ledger, receiver, Deliveries);
        Phase("deliveries in");

        var figures = await Checks.VerifyAsync(deployment, load.Ledger, receiver, a, b, again);
        Say($"two hosts, one stopped (SIGTERM): it exited {Seconds((exited - stopped).TotalSeconds)} after the signal; " +
            $"{handedBack} deliveries it owed arrived through the other {Seconds(handedFirst)}–{Seconds(handedLast)} after the signal; " +
            $"of those it had in flight, {Checks.SentAgain(receiver, held, stopped)} were sent again");
        Say($"two hosts, one killed: {owed} deliveries the killed host owed arrived through the survivor {Seconds(first)}–{Seconds(last)} after the kill; " +
            $"{Checks.SentAgain(receiver, killHeld, killed)} it had in flight were sent again; the stopped host, started again, was ready {Seconds(toReady)} after its start");
        Say("  " + figures);
    }
}

/// <summary>Polls <c>/health/ready</c> in the background and remembers when it stopped and started answering 200.</summary>
public sealed class ReadinessWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _polling;
    private readonly List<(DateTimeOffset At, bool Ready)> _changes = [];

    public DateTimeOffset ReadyAgainAt { get; private set; }

    public ReadinessWatch(string host)
    {
        _polling = Task.Run(async () =>
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            bool? last = null;
            while (!_stop.IsCancellationRequested)
            {
                bool ready;
                try
                {
                    using var answer = await http.GetAsync(host + "/health/ready", _stop.Token);
                    ready = answer.StatusCode == HttpStatusCode.OK;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    ready = false;
                }
                if (ready != last)
                {
                    lock (_changes)
                    {
                        _changes.Add((DateTimeOffset.UtcNow, ready));
                    }
                    last = ready;
                }
                await Task.Delay(100, CancellationToken.None);
            }
        });
    }

    /// <summary>Waits until readiness went away after <paramref name="since"/>.</summary>
    public Task WaitForUnreadyAfterAsync(DateTimeOffset since, TimeSpan deadline) =>
        UntilAsync(() => WentAway(since)?.At, deadline,
            $"/health/ready did not go unready within {deadline} after {since:O}");

    /// <summary>Waits until readiness went away after <paramref name="since"/> and came back; answers how long it was away.</summary>
    public async Task<TimeSpan> WaitForReadyAfterAsync(DateTimeOffset since, TimeSpan deadline)
    {
        var (down, up) = await UntilAsync<(DateTimeOffset, DateTimeOffset)>(() =>
        {
            if (WentAway(since) is not { } away)
            {
                return null;
            }
            var back = _changes.FindIndex(c => c.At > away.At && c.Ready);
            return back >= 0 ? (away.At, _changes[back].At) : null;
        }, deadline, $"/health/ready did not go unready and come back within {deadline} of the restart");
        ReadyAgainAt = up;
        return up - down;
    }

    /// <summary>
    /// The change that took readiness away at or after <paramref name="since"/>; or, when it was already away
    /// then (a stale heartbeat, say), the one before, since no change may follow.
    /// </summary>
    private (DateTimeOffset At, bool Ready)? WentAway(DateTimeOffset since)
    {
        var before = _changes.FindLastIndex(c => c.At < since);
        if (before >= 0 && !_changes[before].Ready)
        {
            return _changes[before];
        }
        var down = _changes.FindIndex(c => c.At >= since && !c.Ready);
        return down >= 0 ? _changes[down] : null;
    }

    /// <summary>Polls the recorded changes until <paramref name="found"/> answers.</summary>
    private async Task<T> UntilAsync<T>(Func<T?> found, TimeSpan deadline, string failure) where T : struct
    {
        var until = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < until)
        {
            lock (_changes)
            {
                if (found() is { } answer)
                {
                    return answer;
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException(failure);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _polling;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
