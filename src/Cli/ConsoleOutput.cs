using System.Buffers;
using System.Text;

namespace KvnDb.Cli;

/// <summary>
/// Where replies go. Bytes are gathered in memory and written out with one async write per reply, so a
/// raw value reaches standard output byte for byte (a <see cref="TextWriter"/> target, as tests use, gets
/// them decoded as UTF-8).
/// </summary>
internal sealed class ConsoleOutput
{
    // A long key listing is written out in pieces of about this size, never held whole.
    private const int FlushThreshold = 64 * 1024;

    private readonly ArrayBufferWriter<byte> _buffer = new();
    private readonly Stream? _stream;
    private readonly TextWriter? _text;

    public ConsoleOutput(Stream stream, bool isTerminal)
    {
        _stream = stream;
        IsTerminal = isTerminal;
    }

    public ConsoleOutput(TextWriter text)
    {
        _text = text;
    }

    /// <summary>Standard output is a terminal (the pager and the line editor's redraws make sense).</summary>
    public bool IsTerminal { get; }

    public bool IsFull => _buffer.WrittenCount >= FlushThreshold;

    public void Write(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    public void Write(string text) => Encoding.UTF8.GetBytes(text.AsSpan(), _buffer);

    public void WriteLine(string text)
    {
        Write(text);
        Write("\n"u8);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_stream is not null)
        {
            if (_buffer.WrittenCount > 0)
                await _stream.WriteAsync(_buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (_text is not null)
        {
            if (_buffer.WrittenCount > 0)
                await _text.WriteAsync(Encoding.UTF8.GetString(_buffer.WrittenSpan).AsMemory(), cancellationToken).ConfigureAwait(false);
            await _text.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        _buffer.ResetWrittenCount();
    }
}
