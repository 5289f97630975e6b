using System.Buffers;
using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using KvnDb.Protocol;

namespace KvnDb.Benchmarks;

/// <summary>Request-body validation the router runs on every request before sequencing or forwarding it.</summary>
public class ValidationBenchmarks
{
    private byte[] _setBody = [];
    private byte[] _getBody = [];
    private byte[] _multiSetBody = [];

    [GlobalSetup]
    public void Setup()
    {
        var key = "key:000000000042"u8.ToArray();
        var value = new byte[100];
        _setBody = Body(w => { w.Advance(FrameWriter.WriteField(w.GetSpan(64), key)); w.Advance(FrameWriter.WriteField(w.GetSpan(128), value)); });
        _getBody = Body(w => w.Advance(FrameWriter.WriteField(w.GetSpan(64), key)));
        _multiSetBody = Body(w =>
        {
            BinaryPrimitives.WriteUInt32LittleEndian(w.GetSpan(4), 16);
            w.Advance(4);
            for (var i = 0; i < 16; i++)
            {
                w.Advance(FrameWriter.WriteField(w.GetSpan(64), key));
                w.Advance(FrameWriter.WriteField(w.GetSpan(128), value));
            }
        });
    }

    [Benchmark]
    public StatusCode Set() => BodyValidator.Validate(Opcode.Set, _setBody, ProtocolLimits.DefaultMaxKeySize);

    [Benchmark]
    public StatusCode Get() => BodyValidator.Validate(Opcode.Get, _getBody, ProtocolLimits.DefaultMaxKeySize);

    [Benchmark]
    public StatusCode MultiSet() => BodyValidator.Validate(Opcode.MultiSet, _multiSetBody, ProtocolLimits.DefaultMaxKeySize);

    private static byte[] Body(Action<ArrayBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }
}
