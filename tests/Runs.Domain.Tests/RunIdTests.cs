
namespace Runs.Domain.Tests;

public sealed class RunIdTests
{
    [Fact]
    public void A_run_id_carries_its_utc_trigger_time_and_sixteen_hex_digits()
    {
        var id = RunId.New(new DateTimeOffset(2026, 6, 13, 10, 15, 2, TimeSpan.FromHours(2)));
        Assert.Matches("^20260613-081502-[0-9a-f]{16}$", id);
        Assert.True(RunId.IsValid(id));
    }

    [Fact]
    public void Run_ids_sort_by_trigger_time()
    {
        var earlier = RunId.New(new DateTimeOffset(2026, 6, 13, 8, 15, 2, TimeSpan.Zero));
        var later = RunId.New(new DateTimeOffset(2026, 6, 13, 8, 15, 3, TimeSpan.Zero));
        Assert.True(string.CompareOrdinal(earlier, later) < 0);
    }

    [Fact]
    public void Run_ids_of_the_same_second_sort_by_millisecond()
    {
        var second = new DateTimeOffset(2026, 6, 13, 8, 15, 2, TimeSpan.Zero);
        var ids = new[] { 0, 1, 99, 500, 999 }.Select(ms => RunId.New(second.AddMilliseconds(ms))).ToArray();
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.All(ids, id => Assert.True(RunId.IsValid(id)));
    }

    [Theory]
    [InlineData("20260613-081502-0123456789ABCDEF")]
    [InlineData("20260613-081502-0123456789abcde")]
    [InlineData("2026061-081502-0123456789abcdef")]
    [InlineData("../../etc/passwd")]
    [InlineData("20260613-081502-0123456789abcdef\n")]
    public void Malformed_run_ids_are_refused(string id) => Assert.False(RunId.IsValid(id));

    [Theory]
    [InlineData("nightly", true)]
    [InlineData("a", true)]
    [InlineData("etl.v2_daily-run", true)]
    [InlineData("Nightly", false)]
    [InlineData("-nightly", false)]
    [InlineData("", false)]
    [InlineData("night ly", false)]
    [InlineData("nightly\n", false)]
    public void Job_names_are_slugs(string job, bool valid) => Assert.Equal(valid, JobName.IsValid(job));
}
