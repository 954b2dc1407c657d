using System.Net;
using System.Text;

namespace Runs.Domain.Tests;

public sealed class ScrubberTests
{
    private const string Cut = " …[cut]";

    [Theory]
    [InlineData("curl -H 'Authorization: Bearer abc.def-ghi' x", "curl -H 'Authorization: Bearer [REDACTED]' x")]
    [InlineData("git clone https://bob:pa55word@github.com/x.git", "git clone https://bob:[REDACTED]@github.com/x.git")]
    [InlineData("Host=db;Username=app;Password=hunter2;Database=x", "Host=db;Username=app;Password=[REDACTED];Database=x")]
    [InlineData("Server=db;Uid=app;Pwd=\"hunter 2\";", "Server=db;Uid=app;Pwd=\"[REDACTED]\";")]
    [InlineData("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED] used")]
    [InlineData("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY=[REDACTED]")]
    [InlineData("nothing to hide here", "nothing to hide here")]
    public void Common_credential_shapes_are_redacted(string text, string expected) =>
        Assert.Equal(expected, Scrubber.Patterns.Scrub(text));

    // The shapes of the review's M8 reproduction, and their relatives.
    [Theory]
    [InlineData("DB_PASSWORD=hunter2", "DB_PASSWORD=[REDACTED]")]
    [InlineData("PGPASSWORD=hunter2 psql -h db", "PGPASSWORD=[REDACTED] psql -h db")]
    [InlineData("PASSWORD=hunter2", "PASSWORD=[REDACTED]")]
    [InlineData("MYSQL_PASS=hunter2", "MYSQL_PASS=[REDACTED]")]
    [InlineData("password: hunter2", "password: [REDACTED]")]
    [InlineData("  db_passwd : 'hunter 2'", "  db_passwd : '[REDACTED]'")]
    [InlineData("{\"password\":\"hunter2\",\"user\":\"bob\"}", "{\"password\":\"[REDACTED]\",\"user\":\"bob\"}")]
    [InlineData("{\"password\": \"hun\\\"ter 2\"}", "{\"password\": \"[REDACTED]\"}")]
    [InlineData("spring.datasource.password=hunter2", "spring.datasource.password=[REDACTED]")]
    [InlineData("client_secret=abc123&grant_type=x", "client_secret=[REDACTED]&grant_type=x")]
    [InlineData("SECRET_KEY='django-insecure-x'", "SECRET_KEY='[REDACTED]'")]
    [InlineData("X-Api-Key: k-123456", "X-Api-Key: [REDACTED]")]
    [InlineData("GET https://x.example/?token=hunter2", "GET https://x.example/?token=[REDACTED]")]
    [InlineData("GET /v1/x?page=2&api_key=hunter2&q=1", "GET /v1/x?page=2&api_key=[REDACTED]&q=1")]
    [InlineData("GET /cb?access_token=hunter2&state=x", "GET /cb?access_token=[REDACTED]&state=x")]
    [InlineData("Authorization: Basic dXNlcjpodW50ZXIy", "Authorization: Basic [REDACTED]")]
    [InlineData("{\"Authorization\": \"Basic dXNlcjpodW50ZXIy\"}", "{\"Authorization\": \"Basic [REDACTED]\"}")]
    [InlineData("authorization: token ghx-123", "authorization: token [REDACTED]")]
    [InlineData("Proxy-Authorization:abc123", "Proxy-Authorization:[REDACTED]")]
    [InlineData("git clone https://:tok123@example.com/r", "git clone https://:[REDACTED]@example.com/r")]
    [InlineData("postgres://app:p%40ss@db:5432/x", "postgres://app:[REDACTED]@db:5432/x")]
    [InlineData("export GH=ghp_abcdefghijklmnopqrstuvwxyz0123456789", "export GH=ghp_[REDACTED]")]
    [InlineData("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_[REDACTED]")]
    [InlineData("slack xoxb-1234567890-abcdefghij", "slack xoxb-[REDACTED]")]
    [InlineData("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+3kEHCWu3EM=", "whsec_[REDACTED]")]
    [InlineData("token runs_Ab3dEf6hIj9kLm2oPq5sTu8wXy1zAb4dEf7hIj0kLm3 ok", "token runs_[REDACTED] ok")]
    public void Credential_shapes_in_env_listings_json_yaml_headers_and_urls_are_redacted(string text, string expected) =>
        Assert.Equal(expected, Scrubber.Patterns.Scrub(text));

    [Theory]
    [InlineData("--- PASS: TestAppend (0.00s)")]
    [InlineData("max_tokens=100 tokens: 3")]
    [InlineData("listening on https://localhost:8080/health")]
    [InlineData("runs_appended_total 42")]
    [InlineData("Basic setup done; authorization failed for bob")]
    [InlineData("key AKIAIOSFODNN7EXAMPLEX is too long to be one")]
    public void Ordinary_text_that_resembles_a_shape_is_left_alone(string text) =>
        Assert.Equal(text, Scrubber.Patterns.Scrub(text));

    [Fact]
    public void Secret_values_are_redacted_wherever_they_appear()
    {
        var scrubber = new Scrubber(["s3cr3t", "another-one"]);
        // Secrets side by side are one redaction: how many there were is not shown either.
        Assert.Equal("a [REDACTED] b [REDACTED]", scrubber.Scrub("a s3cr3t b another-ones3cr3t"));
    }

    [Fact]
    public void Overlapping_secrets_are_redacted_as_a_whole()
    {
        var scrubber = new Scrubber(["abcdef12", "ef12ghij"]);
        Assert.Equal("x [REDACTED] y", scrubber.Scrub("x abcdef12ghij y"));
    }

    [Fact]
    public void Secrets_shorter_than_the_minimum_are_not_sought()
    {
        var scrubber = new Scrubber(["abc", " ab \n"]);
        Assert.Equal("abc ab", scrubber.Scrub("abc ab"));
    }

    [Fact]
    public void A_secret_with_surrounding_whitespace_or_a_trailing_newline_is_found_trimmed()
    {
        var scrubber = new Scrubber(["tok-abcdef\n", "  padded-value\t"]);
        Assert.Equal(["[REDACTED]", "use [REDACTED] now"], scrubber.ScrubLines(["tok-abcdef", "use padded-value now"], 1000, Cut));
    }

    [Fact]
    public void Each_line_of_a_multi_line_secret_is_found_alone_and_the_whole_secret_in_one_message()
    {
        const string pem = "-----BEGIN KEY-----\nMIIEsecretbody\nMIIEmoresecret\n-----END KEY-----";
        var scrubber = new Scrubber([pem]);

        Assert.Equal(["[REDACTED]", "key: [REDACTED]", "[REDACTED]"],
            scrubber.ScrubLines(["MIIEsecretbody", "key: MIIEmoresecret", "-----END KEY-----"], 1000, Cut));
        Assert.Equal("loaded [REDACTED].", scrubber.Scrub($"loaded {pem}."));
        Assert.Equal("crlf [REDACTED]", scrubber.Scrub("crlf " + pem.Replace("\n", "\r\n")));
        Assert.Equal("wrapped [REDACTED]", scrubber.Scrub("wrapped " + pem.Replace("\n", "")));
    }

    [Fact]
    public void A_multi_line_secret_whose_lines_are_all_short_is_still_found_as_a_whole()
    {
        var scrubber = new Scrubber(["ab1\ncd2\nef3"]);
        Assert.Equal("x [REDACTED] y", scrubber.Scrub("x ab1\ncd2\nef3 y"));
        Assert.Equal(["x", "ab1"], scrubber.ScrubLines(["x", "ab1"], 1000, Cut));
    }

    [Theory]
    [InlineData("before tok-ab", "cdef after", "before [REDACTED]", "[REDACTED] after")]
    [InlineData("tok-abcd", "ef", "[REDACTED]", "[REDACTED]")]
    [InlineData("…tok-a", "bcdef", "…[REDACTED]", "[REDACTED]")]
    public void A_secret_split_across_two_lines_of_a_batch_is_redacted_in_both(string first, string second, string firstScrubbed, string secondScrubbed)
    {
        var scrubber = new Scrubber(["tok-abcdef"]);
        Assert.Equal([firstScrubbed, secondScrubbed], scrubber.ScrubLines([first, second], 1000, Cut));
    }

    [Fact]
    public void A_long_secret_split_across_several_lines_is_redacted_in_each()
    {
        var secret = string.Concat(Enumerable.Range(0, 40).Select(i => (char)('a' + i % 26))) + "0123456789ABCDEFGHIJ";
        var scrubber = new Scrubber([secret]);
        var lines = new[] { "start " + secret[..25], secret[25..45], secret[45..] + " end" };
        Assert.Equal(["start [REDACTED]", "[REDACTED]", "[REDACTED] end"], scrubber.ScrubLines(lines, 1000, Cut));
    }

    [Fact]
    public void A_part_of_a_long_secret_is_redacted_but_for_at_most_31_characters_at_either_end()
    {
        var random = new Random(7);
        var secret = string.Concat(Enumerable.Range(0, 100).Select(_ => (char)random.Next('a', 'z' + 1)));
        var scrubbed = new Scrubber([secret]).Scrub($"<{secret[10..90]}>");

        var left = scrubbed[1..^1].Split(Scrubber.Redacted);
        Assert.Equal(2, left.Length);
        Assert.True(left[0].Length <= 31 && left[1].Length <= 31, scrubbed);
    }

    public static TheoryData<string, string> EncodedForms()
    {
        const string secret = "p@ss w/rd\"+\\é";
        var data = new TheoryData<string, string>
        {
            { secret, Uri.EscapeDataString(secret) },
            { secret, WebUtility.UrlEncode(secret) },
            { secret, JsonSerializer.Serialize(secret)[1..^1] },
            { secret, JsonSerializer.Serialize(secret, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })[1..^1] },
        };
        foreach (var prefix in new[] { "", "x", "xy" })
        {
            data.Add("hunter2secret", Convert.ToBase64String(Encoding.UTF8.GetBytes(prefix + "hunter2secret")));
            data.Add("hunter2secret?>>", Convert.ToBase64String(Encoding.UTF8.GetBytes(prefix + "hunter2secret?>>")).Replace('+', '-').Replace('/', '_'));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EncodedForms))]
    public void URL_JSON_and_base64_forms_of_a_secret_are_redacted(string secret, string encoded)
    {
        var scrubbed = new Scrubber([secret]).Scrub($"sent {encoded} ok");
        Assert.StartsWith("sent ", scrubbed);
        Assert.EndsWith(" ok", scrubbed);
        Assert.Contains(Scrubber.Redacted, scrubbed);
        // Left are at most the base64 characters that mix the secret's bits with its neighbours', and padding.
        var left = scrubbed["sent ".Length..^" ok".Length].Replace(Scrubber.Redacted, "").TrimEnd('=');
        Assert.True(left.Length <= 3, scrubbed);
    }

    [Theory]
    [InlineData("deploy")]
    [InlineData("ci")]
    [InlineData("a")]
    public void The_base64_of_user_colon_secret_reveals_nothing_of_the_secret(string user)
    {
        const string secret = "hunter2secret";
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}"));
        var scrubbed = new Scrubber([secret]).Scrub($"creds {encoded}");

        var left = scrubbed["creds ".Length..].Split(Scrubber.Redacted);
        Assert.Equal(2, left.Length);
        // What is left before the redaction decodes to no more than the user and the colon.
        Assert.True(left[0].Length * 6 / 8 <= user.Length + 1, scrubbed);
        Assert.True(left[1].Length <= 3, scrubbed);
    }

    [Fact]
    public void Every_line_of_the_review_reproduction_is_redacted()
    {
        var scrubber = new Scrubber(["-----BEGIN KEY-----\nMIIEsecretbody\n-----END KEY-----", "tok-abcdef\n"]);
        string[] lines =
        [
            "MIIEsecretbody", "tok-abcdef", "DB_PASSWORD=hunter2", "PGPASSWORD=hunter2", "password: hunter2",
            "{\"password\":\"hunter2\"}", "Authorization: Basic dXNlcjpodW50ZXIy", "GET https://x.example/?token=hunter2",
        ];
        var scrubbed = scrubber.ScrubLines(lines, 16 * 1024, Cut);
        Assert.All(scrubbed, line =>
        {
            Assert.Contains(Scrubber.Redacted, line);
            Assert.DoesNotContain("hunter2", line);
            Assert.DoesNotContain("secretbody", line);
            Assert.DoesNotContain("abcdef", line);
            Assert.DoesNotContain("dXNlcjpodW50ZXIy", line);
        });
    }

    [Fact]
    public void Past_the_budget_the_encodings_of_longer_secrets_and_then_the_longest_secrets_are_not_sought()
    {
        var scrubber = new Scrubber(["plain-one", "p@ss-two", "a-longer-secret"], maxFormChars: 8 + 9 + 10);

        // Both shorter values fit, then the first encoded form of the shortest ("p%40ss-two"), and no more.
        Assert.Equal("[REDACTED] [REDACTED] [REDACTED] cGxhaW4tb25l a-longer-secret",
            scrubber.Scrub("plain-one p@ss-two p%40ss-two cGxhaW4tb25l a-longer-secret"));
    }

    [Fact]
    public void Lines_longer_than_the_maximum_are_cut_with_the_marker()
    {
        var scrubbed = Scrubber.Patterns.ScrubLines([new string('x', 200), new string('y', 100)], 100, Cut);
        Assert.Equal([new string('x', 100) + Cut, new string('y', 100)], scrubbed);
    }

    [Fact]
    public void A_secret_across_the_cut_leaves_none_of_itself_behind()
    {
        var scrubber = new Scrubber(["s3cr3t-value"]);
        var line = new string('x', 95) + "s3cr3t-value" + new string('z', 50);

        var scrubbed = scrubber.ScrubLines([line], 100, Cut).Single();

        // "[REDACTED]" does not fit in the 5 characters left, so the line ends before it.
        Assert.Equal(new string('x', 95) + Cut, scrubbed);
    }

    [Fact]
    public void A_credential_across_the_cut_is_redacted_in_what_is_kept()
    {
        var line = new string('x', 80) + " password=" + new string('p', 200);
        var scrubbed = Scrubber.Patterns.ScrubLines([line], 100, Cut).Single();
        Assert.Equal(new string('x', 80) + " password=" + Scrubber.Redacted + Cut, scrubbed);

        var url = new string('x', 60) + " https://bob:" + new string('p', 300) + "@example.com";
        Assert.Equal(new string('x', 60) + " https://bob:" + Scrubber.Redacted + Cut, Scrubber.Patterns.ScrubLines([url], 100, Cut).Single());
    }

    [Fact]
    public void Redactions_that_shorten_a_line_never_bring_text_from_past_the_cut_into_view()
    {
        // The first secret shrinks to ten characters; what is kept is still only what was sent before the cut.
        var first = new string('f', 40);
        var scrubber = new Scrubber([first]);
        var line = first + new string('x', 88) + "later text" + new string('z', 10);

        var scrubbed = scrubber.ScrubLines([line], 100, Cut).Single();

        Assert.Equal(Scrubber.Redacted + new string('x', 60) + Cut, scrubbed);
    }

    [Fact]
    public void A_scrubbed_line_is_never_longer_than_the_maximum_and_its_marker()
    {
        var scrubber = new Scrubber(["abcd"]);
        var line = string.Concat(Enumerable.Repeat("abcd ", 20));   // 100 characters; each secret becomes 10
        var scrubbed = scrubber.ScrubLines([line], 100, Cut).Single();
        Assert.True(scrubbed.Length <= 100 + Cut.Length);
        Assert.EndsWith(Cut, scrubbed);
        Assert.DoesNotContain("abcd", scrubbed);
    }
}
