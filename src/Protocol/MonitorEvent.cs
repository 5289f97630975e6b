using System.Buffers;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>What a <see cref="MonitorEvent"/> reports.</summary>
public enum MonitorEventKind : byte
{
    /// <summary>A request the router received from a client.</summary>
    Command = 0,
    /// <summary>The monitor fell behind: <see cref="MonitorEvent.ClientId"/> events were dropped here (writes are never slowed for a monitor).</summary>
    Dropped = 1,
    /// <summary>First frame of the stream: the monitor is on, every later request is reported.</summary>
    Started = 2,
}

/// <summary>
/// One frame of a monitor stream (<see cref="Opcode.Monitor"/>, flag More, the start request's id):
/// <c>[u8 kind][i64 time][u64 client][u8 opcode][u32 keys][u32 body bytes][field key][field address]</c>.
/// <c>time</c> is the router's clock in Unix microseconds; <c>key</c> is the request's first key cut to
/// <see cref="MaxKeyBytes"/> (empty when it has none); <c>keys</c> counts the keys a multi-key request carries.
/// Values are never sent, only their size (inside <c>body bytes</c>).
/// </summary>
public readonly record struct MonitorEvent(MonitorEventKind Kind, long TimeMicros, ulong ClientId, Opcode Opcode, uint KeyCount, uint BodyBytes, byte[] Key, string Address)
{
    /// <summary>A monitor shows what a key looks like, not all of it: longer keys are cut.</summary>
    public const int MaxKeyBytes = 64;

    /// <summary>Monitor request body: <c>[u8 mode]</c>, 1 to start, 0 to stop (sent with NoReply; the stream then ends).</summary>
    public const byte Start = 1;

    public const byte Stop = 0;

    private const int FixedSize = 1 + 8 + 8 + 1 + 4 + 4;

    public int BodyLength => FixedSize + FrameWriter.FieldSize(Key.Length) + FrameWriter.FieldSize(Encoding.UTF8.GetByteCount(Address));

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        ArgumentNullException.ThrowIfNull(output);
        var frame = FrameBuilder.Start(output, new FrameHeader(BodyLength, Opcode.Monitor, FrameFlags.Response | FrameFlags.More, StatusCode.Ok, requestId));
        frame.Byte((byte)Kind);
        frame.Int64(TimeMicros);
        frame.UInt64(ClientId);
        frame.Byte((byte)Opcode);
        frame.UInt32(KeyCount);
        frame.UInt32(BodyBytes);
        frame.Field(Key);
        frame.Utf8Field(Address);
        frame.Complete();
    }

    /// <summary>False unless the body is exactly one event of a known kind (key and address are copied).</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out MonitorEvent monitorEvent)
    {
        monitorEvent = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadByte(out var kind) || kind > (byte)MonitorEventKind.Started
            || !reader.TryReadInt64(out var time) || !reader.TryReadUInt64(out var client)
            || !reader.TryReadByte(out var opcode) || !reader.TryReadUInt32(out var keys) || !reader.TryReadUInt32(out var bytes)
            || !reader.TryReadField(out var key) || !reader.TryReadField(out var address) || !reader.IsAtEnd)
            return false;
        monitorEvent = new MonitorEvent((MonitorEventKind)kind, time, client, (Opcode)opcode, keys, bytes, key.ToArray(), Encoding.UTF8.GetString(address));
        return true;
    }

    /// <summary>
    /// The first key of a client request body and how many keys it carries (0 and empty for requests
    /// without keys or a body that does not parse: the monitor reports, it does not judge).
    /// </summary>
    public static ReadOnlySpan<byte> FirstKey(Opcode opcode, ReadOnlySpan<byte> body, out uint keyCount)
    {
        keyCount = 1;
        ReadOnlySpan<byte> key;
        switch (opcode)
        {
            case Opcode.Get or Opcode.Exists or Opcode.Delete or Opcode.GetDelete or Opcode.ListKeys or Opcode.GetVersioned or Opcode.TimeToLive:
                if (KeyRequest.TryRead(body, out key))
                    return Cut(key);
                break;
            case Opcode.Set or Opcode.Append:
                if (SetRequest.TryRead(body, out key, out _))
                    return Cut(key);
                break;
            case Opcode.SetWhen:
                if (SetWhenRequest.TryRead(body, out _, out key, out _))
                    return Cut(key);
                break;
            case Opcode.Increment:
                if (IncrementRequest.TryRead(body, out long _, out key))
                    return Cut(key);
                break;
            case Opcode.IncrementFloat:
                if (FloatIncrementRequest.TryRead(body, out double _, out key))
                    return Cut(key);
                break;
            case Opcode.SetRange:
                if (SetRangeRequest.TryRead(body, out ulong _, out key, out _))
                    return Cut(key);
                break;
            case Opcode.Expire:
                if (ExpireRequest.TryRead(body, out _, out _, out _, out key))
                    return Cut(key);
                break;
            case Opcode.MultiGet:
                if (MultiGetRequest.TryRead(body, out var multiGet))
                {
                    keyCount = multiGet.Count;
                    return multiGet.TryReadNext(out key) ? Cut(key) : [];
                }
                break;
            case Opcode.MultiSet:
                if (MultiSetRequest.TryRead(body, out var multiSet))
                {
                    keyCount = multiSet.Count;
                    return multiSet.TryReadNext(out key, out _) ? Cut(key) : [];
                }
                break;
        }
        keyCount = 0;
        return [];
    }

    private static ReadOnlySpan<byte> Cut(ReadOnlySpan<byte> key) => key.Length <= MaxKeyBytes ? key : key[..MaxKeyBytes];
}
