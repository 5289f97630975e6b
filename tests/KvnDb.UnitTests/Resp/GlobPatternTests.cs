using System.Text;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Resp;

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("*", "", true)]
    [InlineData("*", "anything", true)]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h*llo", "heeeello", true)]
    [InlineData("h*llo", "hello world", false)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[ae]llo", "hillo", false)]
    [InlineData("h[^e]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-b]llo", "hbllo", true)]
    [InlineData("h[b-a]llo", "hallo", true)]
    [InlineData("h[a-b]llo", "hcllo", false)]
    // As Redis reads it: "[a-]" is the range from ']' to 'a' and leaves the class open.
    [InlineData("[a-]", "a", true)]
    [InlineData("[a-]", "_", true)]
    [InlineData("[a-]", "-", false)]
    [InlineData("a\\*b", "a*b", true)]
    [InlineData("a\\*b", "axb", false)]
    [InlineData("*a*b*c*", "xxaxxbxxcxx", true)]
    [InlineData("*a*b*c*", "xxaxxcxxbxx", false)]
    [InlineData("user:*:name", "user:42:name", true)]
    [InlineData("user:*:name", "user:42:names", false)]
    [InlineData("abc", "abc", true)]
    [InlineData("abc", "abcd", false)]
    [InlineData("[abc", "b", true)]
    public void Matches_like_redis(string pattern, string text, bool expected) =>
        Assert.Equal(expected, GlobPattern.IsMatch(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void A_hostile_pattern_stays_linear_in_practice()
    {
        var pattern = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("*a", 200)) + "b");
        var text = Encoding.UTF8.GetBytes(new string('a', 5000));
        Assert.False(GlobPattern.IsMatch(pattern, text));
    }

    [Theory]
    [InlineData("user:*", "user:")]
    [InlineData("exact", "exact")]
    [InlineData("a?b", "a")]
    [InlineData("[ab]*", "")]
    [InlineData("x\\*y", "x")]
    public void Literal_prefix_stops_at_the_first_special_character(string pattern, string prefix) =>
        Assert.Equal(prefix, Encoding.UTF8.GetString(GlobPattern.LiteralPrefix(Encoding.UTF8.GetBytes(pattern))));
}
