using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using KvnDb.Fuzzing;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests.Fuzz;

/// <summary>
/// One hostile connection: optionally a valid hello, then the fuzzed bytes in separate sends, then a
/// half-close; reads everything the router answers until it closes the connection.
/// </summary>
internal static class FuzzConnection
{
    /// <summary>How long the router has to close a connection after the peer stopped sending.</summary>
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    public static async Task<byte[]> RunAsync(int port, bool helloFirst, FuzzInput input)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync("127.0.0.1", port).WaitAsync(TestCluster.Timeout);
        var reading = ReadUntilClosedAsync(socket);
        try
        {
            if (helloFirst)
                await socket.SendAsync(Hello().AsMemory()).AsTask().WaitAsync(TestCluster.Timeout);
            foreach (var piece in input.Pieces())
                await socket.SendAsync(piece).AsTask().WaitAsync(TestCluster.Timeout);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The router may close first (a refused hello, an unknown opcode); what it sent is still read.
        }
        return await reading.WaitAsync(CloseTimeout);
    }

    public static byte[] Hello() => RawConnection.Hello(requestId: HelloRequestId);

    public const ulong HelloRequestId = 0x4845_4C4C_4F;

    /// <summary>Request ids of every header the router could have read from <paramref name="sent"/>, complete or not.</summary>
    public static HashSet<ulong> RequestIds(ReadOnlySpan<byte> sent)
    {
        var ids = new HashSet<ulong>();
        var offset = 0L;
        while (offset + ProtocolLimits.HeaderSize <= sent.Length)
        {
            var header = sent[(int)offset..];
            ids.Add(BinaryPrimitives.ReadUInt64LittleEndian(header[8..]));
            offset += ProtocolLimits.HeaderSize + (long)BinaryPrimitives.ReadUInt32LittleEndian(header);
        }
        return ids;
    }

    private static async Task<byte[]> ReadUntilClosedAsync(Socket socket)
    {
        var received = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(received.GetMemory(16 * 1024));
                if (read == 0)
                    break;
                received.Advance(read);
            }
        }
        catch (SocketException)
        {
            // A reset also means closed.
        }
        return received.WrittenSpan.ToArray();
    }
}
