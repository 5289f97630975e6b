using System.Text;
using KvnDb.Node.Commands;

namespace KvnDb.UnitTests.Commands;

/// <summary>Numbers as decimal text, read and printed as Redis does (string2ll, INCRBYFLOAT's output).</summary>
public sealed class DecimalTextTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("-1", -1L)]
    [InlineData("42", 42L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    public void Integers_in_redis_form_parse(string text, long expected)
    {
        Assert.True(DecimalText.TryParseInteger(Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("01")]
    [InlineData("-0")]
    [InlineData("-")]
    [InlineData("1.0")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("99999999999999999999")]
    [InlineData("abc")]
    public void Anything_else_is_not_an_integer(string text) =>
        Assert.False(DecimalText.TryParseInteger(Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData("10.5", 10.5)]
    [InlineData("5.0e3", 5000.0)]
    [InlineData("-3", -3.0)]
    [InlineData("+2.5", 2.5)]
    public void Floats_parse(string text, double expected)
    {
        Assert.True(DecimalText.TryParseFloat(Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("NaN")]
    [InlineData("1,5")]
    [InlineData("x")]
    public void Anything_else_is_not_a_float(string text) =>
        Assert.False(DecimalText.TryParseFloat(Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData(10.6, "10.6")]
    [InlineData(3.0, "3")]
    [InlineData(-0.0, "0")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(0.00001, "0.00001")]
    [InlineData(-2.5, "-2.5")]
    public void Floats_print_in_plain_notation_as_the_shortest_round_trip(double value, string expected)
    {
        Span<byte> buffer = stackalloc byte[DecimalText.MaxFloatLength];
        var length = DecimalText.FormatFloat(value, buffer);
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..length]));
    }

    [Fact]
    public void Integers_print_as_they_parse()
    {
        Span<byte> buffer = stackalloc byte[DecimalText.MaxIntegerLength];
        foreach (var value in new[] { 0L, -1L, long.MaxValue, long.MinValue, 1234567890L })
        {
            var length = DecimalText.FormatInteger(value, buffer);
            Assert.True(DecimalText.TryParseInteger(buffer[..length], out var back));
            Assert.Equal(value, back);
        }
    }
}
