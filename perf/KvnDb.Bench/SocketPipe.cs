using System.IO.Pipelines;
using System.Net.Sockets;

namespace KvnDb.Bench;

/// <summary>A connected socket on .NET's own engine, as a pair of pipes (the generator's <c>--io-engine sockets</c>).</summary>
internal sealed class SocketPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    public SocketPipe(Socket connected)
    {
        _socket = connected;
        _stream = new NetworkStream(connected, ownsSocket: false);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
