
namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class StatisticsTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "reader", [Scopes.RunsRead])
{
    private async Task<JsonNode> Get(string url) =>
        await (await Api.Scenario(s => { s.Get.Url(url); s.WithRequestHeader("Accept", "application/json"); s.Bearer(Token); })).Json();

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Job_stats_match_hand_computed_values()
    {
        var t = Utc("2026-05-01T00:00:00Z");
        var first = await Fixture.SeedRunAsync("s", t, RunStatus.Succeeded, 10);
        await Fixture.SeedRunAsync("s", t.AddMinutes(1), RunStatus.Succeeded, 20);
        await Fixture.SeedRunAsync("s", t.AddMinutes(2), RunStatus.Succeeded, 30);
        await Fixture.SeedRunAsync("s", t.AddMinutes(3), RunStatus.Failed, 40);
        await Fixture.SeedRunAsync("s", t.AddMinutes(4), RunStatus.Canceled);
        var last = await Fixture.SeedRunAsync("s", t.AddMinutes(5));

        var stats = await Get("/v1/jobs/s/stats");

        Assert.Equal("s", (string)stats["job"]!);
        Assert.Equal(6, (int)stats["total"]!);
        var byStatus = stats["by_status"]!;
        Assert.Equal((3, 1, 1, 1, 0, 0, 0), ((int)byStatus["succeeded"]!, (int)byStatus["failed"]!, (int)byStatus["canceled"]!,
            (int)byStatus["pending"]!, (int)byStatus["running"]!, (int)byStatus["paused"]!, (int)byStatus["rejected"]!));
        Assert.Equal(0.75, (double)stats["success_rate"]!);
        Assert.Equal(25, (double)stats["duration"]!["p50"]!);
        Assert.Equal(38.5, (double)stats["duration"]!["p95"]!);
        Assert.Equal(40, (double)stats["duration"]!["max"]!);
        Assert.Equal(first, (string)stats["first_run"]!["id"]!);
        Assert.Equal("2026-05-01T00:00:00.000Z", (string)stats["first_run"]!["created_on"]!);
        Assert.Equal(last, (string)stats["last_run"]!["id"]!);
        Assert.Equal("pending", (string)stats["last_run"]!["status"]!);
    }

    [Fact]
    public async Task Success_rate_is_null_without_finished_runs_and_unknown_jobs_are_404()
    {
        await Fixture.SeedRunAsync("fresh", Utc("2026-05-01T00:00:00Z"));
        var stats = await Get("/v1/jobs/fresh/stats");
        Assert.Null(stats["success_rate"]);
        Assert.Null(stats["duration"]!["p50"]);
        await Api.Scenario(s => { s.Get.Url("/v1/jobs/never-ran/stats"); s.Bearer(Token); s.StatusCodeShouldBe(404); });
    }

    [Fact]
    public async Task The_job_list_carries_each_jobs_aggregate()
    {
        await Fixture.SeedRunAsync("b-job", Utc("2026-05-01T00:00:00Z"), RunStatus.Succeeded, 3);
        await Fixture.SeedRunAsync("a-job", Utc("2026-05-01T00:00:00Z"), RunStatus.Failed, 1);
        var jobs = (await Get("/v1/jobs"))["jobs"]!.AsArray();
        Assert.Equal(["a-job", "b-job"], jobs.Select(j => (string)j!["job"]!));
        Assert.Equal(0, (double)jobs[0]!["success_rate"]!);
        Assert.Equal(1, (double)jobs[1]!["success_rate"]!);
    }

    [Fact]
    public async Task The_job_history_is_never_capped()
    {
        await Fixture.SeedManyAsync("big", 1100, Utc("2026-01-01T00:00:00Z"));

        var json = await Get("/v1/jobs/big/stats/runs");
        var rows = json["runs"]!.AsArray();
        Assert.Equal(1100, rows.Count);
        Assert.Equal("2026-01-01T00:00:00.000Z", (string)rows[0]!["time"]!);
        Assert.Equal("schedule", (string)rows[0]!["trigger"]!);
        Assert.Equal("succeeded", (string)rows[1099]!["status"]!);

        var text = await (await Api.Scenario(s => { s.Get.Url("/v1/jobs/big/stats/runs"); s.Bearer(Token); })).ReadAsTextAsync();
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(1101, lines.Length);
        Assert.Matches("^TIME +RUN +TRIGGER +DURATION +STATUS$", lines[0]);
        Assert.Equal(lines[0].IndexOf("STATUS"), lines[1].IndexOf("succeeded"));
    }

    [Fact]
    public async Task Daily_buckets_follow_a_quarter_hour_offset_zone()
    {
        await Fixture.SeedRunAsync("k", Utc("2026-03-01T18:14:00Z"), RunStatus.Succeeded, 10);
        await Fixture.SeedRunAsync("k", Utc("2026-03-01T18:15:00Z"), RunStatus.Failed, 20);

        var daily = await Get("/v1/stats/daily?time_zone=Asia/Kathmandu&start_date=2026-03-01&end_date=2026-03-03");

        Assert.Equal("Asia/Kathmandu", (string)daily["time_zone"]!);
        var days = daily["days"]!.AsArray();
        Assert.Equal(["2026-03-01", "2026-03-02", "2026-03-03"], days.Select(d => (string)d!["date"]!));
        Assert.Equal([1, 1, 0], days.Select(d => (int)d!["total"]!));
        Assert.Equal(1, (int)days[0]!["by_status"]!["succeeded"]!);
        Assert.Equal(1, (int)days[1]!["by_status"]!["failed"]!);
        Assert.Equal(20, (double)days[1]!["duration"]!["p50"]!);
        Assert.Null(days[2]!["duration"]!["p50"]);
    }

    [Fact]
    public async Task Daily_buckets_follow_a_half_hour_offset_zone_in_winter_and_summer()
    {
        await Fixture.SeedRunAsync("n", Utc("2026-01-15T03:29:00Z"));
        await Fixture.SeedRunAsync("n", Utc("2026-01-15T03:30:00Z"));
        await Fixture.SeedRunAsync("n", Utc("2026-07-15T02:29:00Z"));
        await Fixture.SeedRunAsync("n", Utc("2026-07-15T02:30:00Z"));

        var winter = (await Get("/v1/stats/daily?time_zone=America/St_Johns&start_date=2026-01-14&end_date=2026-01-15"))["days"]!.AsArray();
        var summer = (await Get("/v1/stats/daily?time_zone=America/St_Johns&start_date=2026-07-14&end_date=2026-07-15"))["days"]!.AsArray();

        Assert.Equal([1, 1], winter.Select(d => (int)d!["total"]!));
        Assert.Equal([1, 1], summer.Select(d => (int)d!["total"]!));
    }

    [Fact]
    public async Task Daily_buckets_are_exact_on_23_and_25_hour_days()
    {
        foreach (var at in new[] { "2026-03-28T22:59:00Z", "2026-03-28T23:00:00Z", "2026-03-29T21:59:00Z", "2026-03-29T22:00:00Z" })
        {
            await Fixture.SeedRunAsync("dst", Utc(at));
        }
        foreach (var at in new[] { "2026-10-24T21:59:00Z", "2026-10-24T22:00:00Z", "2026-10-25T22:59:00Z", "2026-10-25T23:00:00Z" })
        {
            await Fixture.SeedRunAsync("dst", Utc(at));
        }

        var spring = (await Get("/v1/stats/daily?time_zone=Europe/Berlin&start_date=2026-03-28&end_date=2026-03-30"))["days"]!.AsArray();
        var autumn = (await Get("/v1/stats/daily?time_zone=Europe/Berlin&start_date=2026-10-24&end_date=2026-10-26"))["days"]!.AsArray();

        Assert.Equal([1, 2, 1], spring.Select(d => (int)d!["total"]!));
        Assert.Equal([1, 2, 1], autumn.Select(d => (int)d!["total"]!));
    }

    [Fact]
    public async Task Daily_aggregates_filter_by_job_and_respect_grants()
    {
        var day = Utc("2026-04-01T12:00:00Z");
        await Fixture.SeedRunAsync("a", day);
        await Fixture.SeedRunAsync("b", day);
        await Fixture.SeedRunAsync("c", day);

        var filtered = await Get("/v1/stats/daily?time_zone=UTC&start_date=2026-04-01&end_date=2026-04-01&filter=" + Uri.EscapeDataString("job = \"a\" OR job = \"b\""));
        Assert.Equal(2, (int)filtered["days"]![0]!["total"]!);

        var narrow = await Fixture.TokenAsync("narrow", [Scopes.RunsRead], ["c"]);
        var granted = await (await Api.Scenario(s => { s.Get.Url("/v1/stats/daily?time_zone=UTC&start_date=2026-04-01&end_date=2026-04-01"); s.Bearer(narrow); })).Json();
        Assert.Equal(1, (int)granted["days"]![0]!["total"]!);
    }

    [Fact]
    public async Task Without_dates_the_range_is_the_30_days_ending_today()
    {
        var days = (await Get("/v1/stats/daily?time_zone=Pacific/Auckland"))["days"]!.AsArray();
        Assert.Equal(30, days.Count);
    }
}
