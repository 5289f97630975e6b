using System.Text;

namespace KvnDb.Cli;

/// <summary>
/// Standard input: lines for the prompt, or everything at once as bytes for <c>-x</c> (a value read
/// from a file or a pipe, byte for byte, any size up to the router's limits).
/// </summary>
internal sealed class ConsoleInput
{
    private readonly Stream? _stream;
    private TextReader? _reader;

    public ConsoleInput(Stream stream, bool isTerminal)
    {
        _stream = stream;
        IsTerminal = isTerminal;
    }

    public ConsoleInput(TextReader reader)
    {
        _reader = reader;
    }

    /// <summary>Standard input is a terminal: the prompt uses the line editor.</summary>
    public bool IsTerminal { get; }

    public ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        _reader ??= new StreamReader(_stream!, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
        return _reader.ReadLineAsync(cancellationToken);
    }

    public async Task<byte[]> ReadAllBytesAsync(CancellationToken cancellationToken)
    {
        if (_stream is not null && _reader is null)
        {
            using var buffer = new MemoryStream();
            await _stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
        return Encoding.UTF8.GetBytes(await _reader!.ReadToEndAsync(cancellationToken).ConfigureAwait(false));
    }
}
