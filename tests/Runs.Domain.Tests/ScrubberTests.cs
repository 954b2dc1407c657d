using Runs.Domain;

namespace Runs.Domain.Tests;

public sealed class ScrubberTests
{
    [Theory]
    [InlineData("curl -H 'Authorization: Bearer abc.def-ghi' x", "curl -H 'Authorization: Bearer [REDACTED]' x")]
    [InlineData("git clone https://bob:pa55word@github.com/x.git", "git clone https://bob:[REDACTED]@github.com/x.git")]
    [InlineData("Host=db;Username=app;Password=hunter2;Database=x", "Host=db;Username=app;Password=[REDACTED];Database=x")]
    [InlineData("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED] used")]
    [InlineData("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY=[REDACTED]")]
    [InlineData("nothing to hide here", "nothing to hide here")]
    public void Common_credential_shapes_are_redacted(string text, string expected) =>
        Assert.Equal(expected, Scrubber.Patterns.Scrub(text));

    [Fact]
    public void Secret_values_are_redacted_wherever_they_appear()
    {
        var scrubber = new Scrubber(["s3cr3t", "another-one"]);
        Assert.Equal("a [REDACTED] b [REDACTED][REDACTED]", scrubber.Scrub("a s3cr3t b another-ones3cr3t"));
    }
}
