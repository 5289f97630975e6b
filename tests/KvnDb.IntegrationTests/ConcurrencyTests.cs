namespace KvnDb.IntegrationTests;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Sixty_four_callers_share_one_connection_with_every_result_correct()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();
        const int callers = 64;
        const int operations = 1000;

        var tasks = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var mine = new Dictionary<string, string>();
            for (var i = 0; i < operations; i++)
            {
                var key = $"c{c}:k{random.Next(50)}";
                switch (random.Next(4))
                {
                    case 0 or 1:
                        var value = $"{c}-{i}";
                        await client.SetAsync(key, value);
                        mine[key] = value;
                        break;
                    case 2:
                        Assert.Equal(mine.GetValueOrDefault(key), await client.GetStringAsync(key));
                        break;
                    default:
                        Assert.Equal(mine.Remove(key), await client.DeleteAsync(key));
                        break;
                }
            }
            return mine;
        })).ToArray();

        var finals = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2));
        foreach (var final in finals)
            foreach (var (key, value) in final)
                Assert.Equal(value, await client.GetStringAsync(key));
    }
}
