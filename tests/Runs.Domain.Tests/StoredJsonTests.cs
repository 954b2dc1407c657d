using System.Text;

namespace Runs.Domain.Tests;

public sealed class StoredJsonTests
{
    private static string? Refusal(string json, int maxDepth = 32)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        var refusal = StoredJson.Refusal(ref reader, maxDepth);
        return refusal;
    }

    private static string Nested(int depth, string inner = "") => new string('[', depth) + inner + new string(']', depth);

    // Each boundary was checked against PostgreSQL 15: select '<number>'::jsonb.
    [Theory]
    [InlineData("0", true)]
    [InlineData("-12.5e3", true)]
    [InlineData("1e131071", true)]
    [InlineData("-1e131071", true)]
    [InlineData("1e131072", false)]
    [InlineData("10e131070", true)]
    [InlineData("10e131071", false)]
    [InlineData("0.01e131073", true)]
    [InlineData("0.1e131073", false)]
    [InlineData("1e-16383", true)]
    [InlineData("1E-16384", false)]
    [InlineData("1.0e-16382", true)]
    [InlineData("0.00e-16382", false)]
    [InlineData("0e-16384", false)]
    [InlineData("0e200000", true)]
    [InlineData("0e-999999999", false)]
    [InlineData("1e200000", false)]
    [InlineData("1e-20000", false)]
    [InlineData("1e-000000000000000000000000001", true)]
    public void Numbers_fit_when_PostgreSQL_numeric_can_hold_them(string number, bool fits) =>
        Assert.Equal(fits, StoredJson.FitsNumeric(Encoding.ASCII.GetBytes(number)));

    [Fact]
    public void Literal_digits_count_as_well_as_exponents()
    {
        Assert.True(StoredJson.FitsNumeric(Encoding.ASCII.GetBytes("1" + new string('0', 131_071))));
        Assert.False(StoredJson.FitsNumeric(Encoding.ASCII.GetBytes("1" + new string('0', 131_072))));
        Assert.True(StoredJson.FitsNumeric(Encoding.ASCII.GetBytes("0." + new string('0', 16_382) + "1")));
        Assert.False(StoredJson.FitsNumeric(Encoding.ASCII.GetBytes("0." + new string('0', 16_383) + "1")));
    }

    [Fact]
    public void Nesting_up_to_the_cap_is_stored_and_one_level_more_is_refused()
    {
        Assert.Null(Refusal(Nested(32)));
        Assert.Null(Refusal("{\"a\":" + Nested(31) + "}"));
        Assert.Equal(StoredJson.DepthRule(32), Refusal(Nested(33)));
        Assert.Equal(StoredJson.DepthRule(32), Refusal("{\"a\":[1,{\"b\":" + Nested(31) + "}]}"));
        Assert.Null(Refusal("\"text\"", maxDepth: 1));
        Assert.Null(Refusal("[]", maxDepth: 1));
        Assert.NotNull(Refusal("[[]]", maxDepth: 1));
    }

    [Fact]
    public void A_number_PostgreSQL_cannot_store_is_refused_wherever_it_is_nested()
    {
        Assert.Equal(StoredJson.NumberRule, Refusal("1e200000"));
        Assert.Equal(StoredJson.NumberRule, Refusal("{\"a\":[1,2,{\"b\":1e-20000}]}"));
        Assert.Null(Refusal("{\"a\":[1e400,2,{\"b\":-0.5}]}"));
    }

    [Fact]
    public void A_NUL_character_in_a_string_or_a_key_is_refused_wherever_it_is_nested()
    {
        Assert.Equal(StoredJson.NulRule, Refusal("\"a\\u0000b\""));
        Assert.Equal(StoredJson.NulRule, Refusal("{\"a\":[1,{\"b\":\"\\u0000\"}]}"));
        Assert.Equal(StoredJson.NulRule, Refusal("{\"a\\u0000\":1}"));
        // Other escapes, and the characters next to it, are stored.
        Assert.Null(Refusal("{\"a\\n\":[\"\\u0001\\t\\\\u0000\",\"\\uFFFD\"]}"));
    }

    [Fact]
    public void The_reader_is_left_on_the_values_last_token()
    {
        var reader = new Utf8JsonReader("[{\"a\":[1]},2] 3"u8, new JsonReaderOptions { AllowMultipleValues = true });
        reader.Read();
        Assert.Null(StoredJson.Refusal(ref reader, 32));
        Assert.Equal(JsonTokenType.EndArray, reader.TokenType);
        Assert.Equal(0, reader.CurrentDepth);
        reader.Read();
        Assert.Equal(3, reader.GetInt32());
    }

    [Fact]
    public void Size_is_of_compact_UTF8_json_however_it_was_spaced()
    {
        var spaced = JsonDocument.Parse("{ \"name\" : \"Zoë\" ,\n  \"list\" : [ 1 , 2 ] }").RootElement;
        Assert.Equal(Encoding.UTF8.GetByteCount("{\"name\":\"Zoë\",\"list\":[1,2]}"), StoredJson.Size(spaced));
        Assert.Equal(StoredJson.Size(spaced), StoredJson.Size(spaced.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value))));
    }
}
