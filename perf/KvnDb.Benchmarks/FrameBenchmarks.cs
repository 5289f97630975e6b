using System.Buffers;
using BenchmarkDotNet.Attributes;
using KvnDb.Protocol;

namespace KvnDb.Benchmarks;

/// <summary>
/// Frame encode and parse, in process, no sockets: what every request costs on the router's and the
/// client's hot path before any I/O. Target: 0 B allocated per operation.
/// </summary>
public class FrameBenchmarks
{
    private const int Batch = 16;
    private readonly byte[] _key = "key:000000000042"u8.ToArray();
    private readonly byte[] _value = "xxx"u8.ToArray();
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private ReadOnlySequence<byte> _contiguous;
    private ReadOnlySequence<byte> _segmented;

    [GlobalSetup]
    public void Setup()
    {
        var writer = new ArrayBufferWriter<byte>();
        for (var i = 0; i < Batch; i++)
            FrameWriter.WriteWithTwoFields(writer, Opcode.Set, FrameFlags.None, (ulong)i + 1, _key, _value);
        var bytes = writer.WrittenMemory.ToArray();
        _contiguous = new ReadOnlySequence<byte>(bytes);
        // Split every frame across segments at an awkward offset (inside the header), as a pipe may hand them over.
        _segmented = Segments.Split(bytes, 7);
    }

    [Benchmark]
    public int EncodeSet()
    {
        _output.ResetWrittenCount();
        FrameWriter.WriteWithTwoFields(_output, Opcode.Set, FrameFlags.None, 42, _key, _value);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int EncodeGet()
    {
        _output.ResetWrittenCount();
        FrameWriter.WriteWithField(_output, Opcode.Get, FrameFlags.None, StatusCode.Ok, 42, _key);
        return _output.WrittenCount;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public ulong ParseContiguous() => ParseAll(_contiguous);

    [Benchmark(OperationsPerInvoke = Batch)]
    public ulong ParseSegmented() => ParseAll(_segmented);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int Forward()
    {
        _output.ResetWrittenCount();
        var buffer = _contiguous;
        var id = 1000UL;
        while (FrameReader.TryRead(ref buffer, ProtocolLimits.DefaultMaxFrameSize, out _, out var frame) == FrameReadStatus.Complete)
            FrameHeader.WriteRequestId(FrameWriter.CopyFrame(_output, frame), id++);
        return _output.WrittenCount;
    }

    private static ulong ParseAll(ReadOnlySequence<byte> buffer)
    {
        var sum = 0UL;
        while (FrameReader.TryRead(ref buffer, ProtocolLimits.DefaultMaxFrameSize, out var header, out var frame) == FrameReadStatus.Complete)
        {
            using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
            sum += header.RequestId + (ulong)body.Span.Length;
        }
        return sum;
    }
}
