using System.Globalization;

namespace KvnDb.IntegrationTests;

/// <summary>
/// The Prometheus text format as a scraper reads it: <c># HELP</c> and <c># TYPE</c> per family, then
/// samples <c>name{label="value",...} number</c>. Strict enough that a malformed line fails the test.
/// </summary>
internal sealed class PrometheusText
{
    private PrometheusText()
    {
    }

    public Dictionary<string, string> Help { get; } = [];

    public Dictionary<string, string> Types { get; } = [];

    public List<Sample> Samples { get; } = [];

    public readonly record struct Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public static PrometheusText Parse(string text)
    {
        var result = new PrometheusText();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
                continue;
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var rest = line["# HELP ".Length..];
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                result.Help[space < 0 ? rest : rest[..space]] = space < 0 ? "" : rest[(space + 1)..];
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line["# TYPE ".Length..].Split(' ');
                Assert.Equal(2, parts.Length);
                result.Types[parts[0]] = parts[1];
                continue;
            }
            if (line.StartsWith('#'))
                continue;
            result.Samples.Add(ParseSample(line));
        }
        return result;
    }

    /// <summary>The value of the one sample with this name whose labels include <paramref name="labels"/> (<c>key=value</c> pairs).</summary>
    public double Value(string name, params string[] labels)
    {
        var matches = Find(name, labels).ToList();
        Assert.True(matches.Count == 1, $"{matches.Count} samples of {name} {{{string.Join(",", labels)}}}");
        return matches[0].Value;
    }

    public IEnumerable<Sample> Find(string name, params string[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l =>
        {
            var eq = l.IndexOf('=', StringComparison.Ordinal);
            return s.Labels.TryGetValue(l[..eq], out var v) && v == l[(eq + 1)..];
        }));

    /// <summary>The family a sample belongs to (histogram and summary samples carry a suffix).</summary>
    public string FamilyOf(string sampleName)
    {
        if (Types.ContainsKey(sampleName))
            return sampleName;
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal) && Types.ContainsKey(sampleName[..^suffix.Length]))
                return sampleName[..^suffix.Length];
        }
        return sampleName;
    }

    private static Sample ParseSample(string line)
    {
        var labels = new Dictionary<string, string>();
        var brace = line.IndexOf('{', StringComparison.Ordinal);
        string name;
        string rest;
        if (brace >= 0)
        {
            name = line[..brace];
            var close = line.IndexOf('}', brace);
            Assert.True(close > brace, $"unclosed labels: {line}");
            foreach (var pair in SplitLabels(line[(brace + 1)..close]))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                Assert.True(eq > 0 && pair[eq + 1] == '"' && pair[^1] == '"', $"bad label {pair} in {line}");
                labels[pair[..eq]] = pair[(eq + 2)..^1];
            }
            rest = line[(close + 1)..].Trim();
        }
        else
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            name = line[..space];
            rest = line[(space + 1)..].Trim();
        }
        var valueText = rest.Split(' ')[0];
        var value = valueText switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        Assert.Matches("^[a-zA-Z_:][a-zA-Z0-9_:]*$", name);
        return new Sample(name, labels, value);
    }

    private static IEnumerable<string> SplitLabels(string text)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"' && (i == 0 || text[i - 1] != '\\'))
                quoted = !quoted;
            else if (text[i] == ',' && !quoted)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        if (start < text.Length)
            yield return text[start..];
    }
}
