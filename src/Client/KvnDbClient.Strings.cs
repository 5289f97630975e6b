using System.Runtime.CompilerServices;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>String overloads: keys and values are UTF-8.</summary>
public sealed partial class KvnDbClient
{
    /// <summary>The value of <paramref name="key"/> as bytes, or null when it does not exist.</summary>
    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        ValueOf(await RequestAsync(Opcode.Get, FrameFlags.None, new StringKeyBody(key), cancellationToken).ConfigureAwait(false));

    /// <summary>The value of <paramref name="key"/> decoded as UTF-8, or null when it does not exist.</summary>
    public async ValueTask<string?> GetStringAsync(string key, CancellationToken cancellationToken = default)
    {
        var value = await GetAsync(key, cancellationToken).ConfigureAwait(false);
        return value is null ? null : Encoding.UTF8.GetString(value);
    }

    public async ValueTask SetAsync(string key, string value, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        (await RequestAsync(Opcode.Set, WriteFlags(writeConcern), new StringKeyValueBody(key, value), cancellationToken).ConfigureAwait(false)).ThrowIfError();

    public async ValueTask<bool> DeleteAsync(string key, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        Found(await RequestAsync(Opcode.Delete, WriteFlags(writeConcern), new StringKeyBody(key), cancellationToken).ConfigureAwait(false));

    public async ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken = default) =>
        Found(await RequestAsync(Opcode.Exists, FrameFlags.None, new StringKeyBody(key), cancellationToken).ConfigureAwait(false));

    public async Task<string?[]> MultiGetStringsAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        var values = await MultiGetAsync(keys.Select(k => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(k)).ToArray(), cancellationToken).ConfigureAwait(false);
        return Array.ConvertAll(values, v => v is null ? null : Encoding.UTF8.GetString(v));
    }

    public Task MultiSetStringsAsync(IReadOnlyList<KeyValuePair<string, string>> pairs, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        MultiSetAsync(
            pairs.Select(p => KeyValuePair.Create((ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(p.Key), (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(p.Value))).ToArray(),
            writeConcern, cancellationToken);

    /// <summary>Streams the keys (decoded as UTF-8) that start with <paramref name="prefix"/>.</summary>
    public async IAsyncEnumerable<string> ListKeyStringsAsync(string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var key in ListKeysAsync(Encoding.UTF8.GetBytes(prefix), cancellationToken).ConfigureAwait(false))
            yield return Encoding.UTF8.GetString(key);
    }
}
