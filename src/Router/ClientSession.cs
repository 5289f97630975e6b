using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// A client connection after its hello: handles every complete frame of each read (run to
/// completion: validate, route, write to node channels), then flushes every touched channel once.
/// </summary>
internal sealed class ClientSession(long id, string remoteAddress, OutputChannel output, Cluster cluster) : IReplyTarget
{
    /// <summary>
    /// Room a client body must leave under the frame limit: nodes receive a write with the router's
    /// 8-byte sequence in front, and a donor sends a record alone in a snapshot chunk (13-byte chunk
    /// header, 8-byte sequence). Without it, one write at the limit disconnects every node.
    /// </summary>
    public const int ForwardingHeadroom = SyncMessages.ChunkHeaderSize + 8;

    private readonly int _maxBodySize = cluster.Options.MaxFrameSize - ForwardingHeadroom;

    public void Forward(in ReadOnlySequence<byte> frame, ulong requestId) => Output.TryForward(frame, requestId);

    public void Status(Opcode opcode, ulong requestId, StatusCode status) => Output.WriteStatus(opcode, requestId, status);

    public void Error(Opcode opcode, ulong requestId, StatusCode status, string message) => Output.WriteError(opcode, requestId, status, message);

    public void Raw(Opcode opcode, ulong requestId, ReadOnlySpan<byte> body) => Output.WriteRaw(opcode, requestId, body);

    public long Id { get; } = id;

    public string RemoteAddress { get; } = remoteAddress;

    public OutputChannel Output { get; } = output;

    public async Task RunAsync(PipeReader input, CancellationToken cancellationToken)
    {
        var touched = new HashSet<OutputChannel>();
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                var keepOpen = true;
                while (keepOpen)
                {
                    var status = FrameReader.TryRead(ref buffer, _maxBodySize, out var header, out var frame);
                    if (status == FrameReadStatus.NeedMoreData)
                        break;
                    if (status == FrameReadStatus.TooLarge)
                    {
                        Output.WriteError(header.Opcode, header.RequestId, StatusCode.FrameTooLarge,
                            $"frame body of {(uint)header.BodyLength} bytes is above the limit of {_maxBodySize} bytes; closing");
                        keepOpen = false;
                        break;
                    }
                    keepOpen = Handle(header, frame, touched);
                }
                touched.Add(Output);
                NodeLink.FlushAll(touched);
                if (!keepOpen)
                    return;
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                    return;
            }
        }
        finally
        {
            Output.Close();
        }
    }

    /// <summary>Routes one request; returns false when the connection must close (protocol violation).</summary>
    private bool Handle(in FrameHeader header, in ReadOnlySequence<byte> frame, HashSet<OutputChannel> touched)
    {
        switch (header.Opcode)
        {
            case Opcode.Ping:
                Output.WriteStatus(Opcode.Ping, header.RequestId, StatusCode.Ok);
                return true;
            case Opcode.Info:
                Output.WriteRaw(Opcode.Info, header.RequestId, Encoding.UTF8.GetBytes(InfoReport.Build(cluster)));
                return true;
            case Opcode.Get or Opcode.Exists or Opcode.MultiGet or Opcode.ListKeys:
                if (IsValid(header, frame))
                    cluster.SubmitRead(this, header, frame, touched);
                return true;
            case Opcode.Set or Opcode.Delete or Opcode.MultiSet:
                if (IsValid(header, frame))
                    cluster.SubmitWrite(this, header, frame, touched);
                return true;
            case Opcode.Hello:
                Output.WriteError(header.Opcode, header.RequestId, StatusCode.ProtocolError, "hello was already done on this connection");
                return true;
            case Opcode.Digest:
                cluster.SubmitDigest(this, header, touched);
                return true;
            case Opcode.SyncBegin or Opcode.SyncEnd or Opcode.SnapshotRead or Opcode.SnapshotApply:
                Output.WriteError(header.Opcode, header.RequestId, StatusCode.NotAuthorized, $"{header.Opcode} is for node links only");
                return true;
            default:
                cluster.Stats.Error();
                Output.WriteError(header.Opcode, header.RequestId, StatusCode.UnknownOpcode,
                    $"unknown opcode 0x{(byte)header.Opcode:x2}; closing");
                return false;
        }
    }

    /// <summary>Checks the body's shape and key sizes; a bad request is answered alone and the connection lives.</summary>
    private bool IsValid(in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        var status = BodyValidator.Validate(header.Opcode, body.Span, cluster.Options.MaxKeySize);
        if (status == StatusCode.Ok)
            return true;
        cluster.Stats.Error();
        var message = status == StatusCode.KeyTooLarge
            ? $"key is above the limit of {cluster.Options.MaxKeySize} bytes"
            : $"malformed {header.Opcode} body";
        Output.WriteError(header.Opcode, header.RequestId, status, message);
        return false;
    }
}
