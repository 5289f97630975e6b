using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>Decodes a multi-get reply: <c>[u32 count]([i32 length or -1][bytes])...</c>.</summary>
internal static class MultiGetReply
{
    public static byte[]?[] Parse(byte[]? body, int expected)
    {
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt32(out var count) || count != expected)
            throw new KvnDbProtocolException($"multi-get reply has {count} values for {expected} keys");
        var values = new byte[]?[expected];
        for (var i = 0; i < expected; i++)
        {
            if (!reader.TryReadOptionalField(out var value, out var present))
                throw new KvnDbProtocolException("malformed multi-get reply");
            values[i] = present ? value.ToArray() : null;
        }
        return values;
    }
}
