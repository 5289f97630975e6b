using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>A request body that knows its size and writes itself into the send buffer (no intermediate array).</summary>
internal interface IRequestBody
{
    int Length { get; }

    void Write(Span<byte> destination);
}

internal readonly struct EmptyBody : IRequestBody
{
    public int Length => 0;

    public void Write(Span<byte> destination)
    {
    }
}

/// <summary>A <see cref="KeyRequest"/> body (Get, Exists, Delete, ListKeys prefix).</summary>
internal readonly struct BytesKeyBody(ReadOnlyMemory<byte> key) : IRequestBody
{
    public int Length => KeyRequest.BodyLength(key.Length);

    public void Write(Span<byte> destination) => KeyRequest.WriteBody(destination, key.Span);
}

internal readonly struct StringKeyBody(string key) : IRequestBody
{
    public int Length => KeyRequest.BodyLength(key);

    public void Write(Span<byte> destination) => KeyRequest.WriteBody(destination, key);
}

/// <summary>A <see cref="SetRequest"/> body.</summary>
internal readonly struct BytesKeyValueBody(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value) : IRequestBody
{
    public int Length => SetRequest.BodyLength(key.Length, value.Length);

    public void Write(Span<byte> destination) => SetRequest.WriteBody(destination, key.Span, value.Span);
}

internal readonly struct StringKeyValueBody(string key, string value) : IRequestBody
{
    public int Length => SetRequest.BodyLength(key, value);

    public void Write(Span<byte> destination) => SetRequest.WriteBody(destination, key, value);
}

/// <summary>A <see cref="MultiGetRequest"/> body.</summary>
internal readonly struct MultiKeyBody(IReadOnlyList<ReadOnlyMemory<byte>> keys) : IRequestBody
{
    public int Length
    {
        get
        {
            var length = CountedBodyWriter.HeaderSize;
            foreach (var key in keys)
                length += CountedBodyWriter.FieldSize(key.Length);
            return length;
        }
    }

    public void Write(Span<byte> destination)
    {
        var body = new CountedBodyWriter(destination, keys.Count, fieldsPerEntry: 1);
        foreach (var key in keys)
            body.Field(key.Span);
        body.Complete();
    }
}

/// <summary>A <see cref="MultiSetRequest"/> body.</summary>
internal readonly struct MultiSetBody(IReadOnlyList<KeyValuePair<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>> pairs) : IRequestBody
{
    public int Length
    {
        get
        {
            var length = CountedBodyWriter.HeaderSize;
            foreach (var pair in pairs)
                length += CountedBodyWriter.FieldSize(pair.Key.Length) + CountedBodyWriter.FieldSize(pair.Value.Length);
            return length;
        }
    }

    public void Write(Span<byte> destination)
    {
        var body = new CountedBodyWriter(destination, pairs.Count, fieldsPerEntry: 2);
        foreach (var pair in pairs)
        {
            body.Field(pair.Key.Span);
            body.Field(pair.Value.Span);
        }
        body.Complete();
    }
}

/// <summary>A body already encoded (transactions, built by <see cref="TransactionBuilder"/>).</summary>
internal readonly struct RawBody(byte[] body) : IRequestBody
{
    public int Length => body.Length;

    public void Write(Span<byte> destination) => body.CopyTo(destination);
}

/// <summary>A <see cref="SetWhenRequest"/> body.</summary>
internal readonly struct SetWhenBody(SetWhenHeader header, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value) : IRequestBody
{
    public int Length => SetWhenRequest.BodyLength(key.Length, value.Length);

    public void Write(Span<byte> destination) => SetWhenRequest.WriteBody(destination, header, key.Span, value.Span);
}

/// <summary>An <see cref="IncrementRequest"/> body.</summary>
internal readonly struct IncrementBody(long delta, ReadOnlyMemory<byte> key) : IRequestBody
{
    public int Length => IncrementRequest.BodyLength(key.Length);

    public void Write(Span<byte> destination) => IncrementRequest.WriteBody(destination, delta, key.Span);
}

/// <summary>A <see cref="FloatIncrementRequest"/> body.</summary>
internal readonly struct FloatIncrementBody(double delta, ReadOnlyMemory<byte> key) : IRequestBody
{
    public int Length => FloatIncrementRequest.BodyLength(key.Length);

    public void Write(Span<byte> destination) => FloatIncrementRequest.WriteBody(destination, delta, key.Span);
}

/// <summary>A <see cref="SetRangeRequest"/> body.</summary>
internal readonly struct SetRangeBody(ulong offset, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value) : IRequestBody
{
    public int Length => SetRangeRequest.BodyLength(key.Length, value.Length);

    public void Write(Span<byte> destination) => SetRangeRequest.WriteBody(destination, offset, key.Span, value.Span);
}

/// <summary>An <see cref="ExpireRequest"/> body.</summary>
internal readonly struct ExpireBody(ExpiryMode mode, ExpiryCondition condition, long time, ReadOnlyMemory<byte> key) : IRequestBody
{
    public int Length => ExpireRequest.BodyLength(key.Length);

    public void Write(Span<byte> destination) => ExpireRequest.WriteBody(destination, mode, condition, time, key.Span);
}

/// <summary>A monitor request body: <c>[u8 mode]</c> (<see cref="MonitorEvent.Start"/> or <see cref="MonitorEvent.Stop"/>).</summary>
internal readonly struct MonitorBody(byte mode) : IRequestBody
{
    public int Length => 1;

    public void Write(Span<byte> destination) => destination[0] = mode;
}
