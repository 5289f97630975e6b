using System.Buffers;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Router;

internal sealed partial class Cluster
{
    /// <summary>Sequences a write and queues it to every node; the reply goes out per the write concern.</summary>
    public void SubmitWrite(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, HashSet<OutputChannel> touched)
    {
        Stats.Write();
        // Every front door (native, RESP) must leave room for the sequence and snapshot framing, or the nodes drop.
        if (header.BodyLength > _options.MaxFrameSize - ClientSession.ForwardingHeadroom)
        {
            if ((header.Flags & FrameFlags.NoReply) == 0)
                client.Error(header.Opcode, header.RequestId, StatusCode.FrameTooLarge,
                    $"write body of {header.BodyLength} bytes is above the limit of {_options.MaxFrameSize - ClientSession.ForwardingHeadroom} bytes");
            return;
        }
        if (RentOrRefuse(client, header) is not { } request)
            return;
        lock (request)
        {
            request.Begin(PendingKind.Write, client, header);
            lock (_writeOrder)
            {
                var targets = _writeTargets;
                if (targets.Length > 0)
                {
                    var sequence = ++_sequence;
                    _backlog.Append(header, frame, sequence);
                    foreach (var node in targets)
                    {
                        if (node.Output.TryWriteSequenced(header, frame, request.Id, sequence))
                        {
                            request.AwaitedNodes |= 1UL << node.Slot;
                            touched.Add(node.Output);
                        }
                    }
                }
            }

            if (request.AwaitedNodes == 0)
            {
                if (!request.ClientAnswered)
                    AnswerWrite(request, StatusCode.Unavailable, "no database node is connected", touched);
                Finish(request);
                return;
            }
            if (request.Concern == WriteConcern.None && !request.ClientAnswered)
                AnswerWrite(request, StatusCode.Ok, null, touched);
        }
    }

    /// <summary>A node acknowledged a write (or failed it).</summary>
    private void OnWriteReply(PendingRequest request, NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, HashSet<OutputChannel> touched)
    {
        var bit = 1UL << node.Slot;
        if ((request.AwaitedNodes & bit) == 0)
            return;
        request.AwaitedNodes &= ~bit;
        if (header.Status.IsError())
        {
            request.WriteStatus = header.Status;
            request.ErrorMessage = $"node {node.Id}: {Encoding.UTF8.GetString(frame.Slice(ProtocolLimits.HeaderSize))}";
        }
        else
        {
            if (request.Acknowledgements == 0 && request.WriteStatus == StatusCode.Ok)
                request.WriteStatus = header.Status; // Ok or NotFound (delete of a missing key)
            request.Acknowledgements++;
        }
        ProgressWrite(request, touched);
    }

    /// <summary>Answers the client when the write concern is met, and frees the slot when no node owes anything.</summary>
    private void ProgressWrite(PendingRequest request, HashSet<OutputChannel> touched)
    {
        if (!request.ClientAnswered)
        {
            if (request.AwaitedNodes == 0 && request.Acknowledgements == 0 && !request.WriteStatus.IsError())
                AnswerWrite(request, StatusCode.Unavailable, "every node died before acknowledging the write; it may or may not have been applied", touched);
            else if (request.AwaitedNodes == 0 || (request.Concern == WriteConcern.One && request.Acknowledgements > 0))
                AnswerWrite(request, request.WriteStatus, request.ErrorMessage, touched);
        }
        if (request.AwaitedNodes == 0)
            Finish(request);
    }

    private void AnswerWrite(PendingRequest request, StatusCode status, string? message, HashSet<OutputChannel> touched)
    {
        request.ClientAnswered = true;
        var client = request.Client;
        if (client is null)
            return;
        if (status.IsError())
        {
            Stats.Error();
            client.Error(request.Opcode, request.ClientRequestId, status, message ?? status.ToString());
        }
        else
        {
            client.Status(request.Opcode, request.ClientRequestId, status);
        }
        touched.Add(client.Output);
    }

    /// <summary>A pending slot, or null after answering Busy (unless the request wants no reply).</summary>
    private PendingRequest? RentOrRefuse(IReplyTarget client, in FrameHeader header)
    {
        var request = _pending.Rent();
        // Only a NoReply write goes unanswered: a read or digest is answered whatever its flags (its
        // session counts it in flight until then), so a refused one must hear Busy.
        var silent = (header.Flags & FrameFlags.NoReply) != 0 && header.Opcode is Opcode.Set or Opcode.Delete or Opcode.MultiSet;
        if (request is null && !silent)
            client.Error(header.Opcode, header.RequestId, StatusCode.Busy, "router has too many requests in flight");
        return request;
    }

    private void Finish(PendingRequest request)
    {
        Metrics?.RecordLatency(request.Kind, request.StartedAt);
        request.End();
        _pending.Return(request);
    }
}
