using System.Globalization;
using System.Text;

namespace KvnDb.Cli;

/// <summary>
/// Prints replies as redis-cli does. Formatted (the default): <c>OK</c>, <c>(nil)</c>, <c>(integer) 5</c>,
/// strings quoted with every byte that is not printable ASCII escaped (<c>"a\x00\xff\n"</c>), so a binary
/// value can neither be corrupted nor reach the terminal raw; arrays numbered. Raw: the bytes themselves,
/// one reply (or array item) per line. CSV: items comma-separated, strings quoted, nil as <c>NULL</c>.
/// Errors go to standard error.
/// </summary>
internal sealed class ReplyPrinter(ConsoleOutput output, TextWriter error, OutputMode mode)
{
    public OutputMode Mode => mode;

    public ConsoleOutput Output => output;

    public async Task<int> PrintAsync(ConsoleReply reply, CancellationToken cancellationToken)
    {
        if (reply is ConsoleReply.Error failure)
        {
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            await error.WriteLineAsync((mode == OutputMode.Formatted ? "(error) " : "") + failure.Message).ConfigureAwait(false);
            await error.FlushAsync(cancellationToken).ConfigureAwait(false);
            return reply.ExitCode;
        }
        switch (mode)
        {
            case OutputMode.Raw:
                WriteRaw(reply);
                break;
            case OutputMode.Csv:
                WriteCsv(reply);
                output.Write("\n"u8);
                break;
            default:
                WriteFormatted(reply, "");
                break;
        }
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (reply is ConsoleReply.Text { Errors.Length: > 0 } withErrors)
        {
            await error.WriteAsync(withErrors.Errors).ConfigureAwait(false);
            await error.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        return reply.ExitCode;
    }

    /// <summary>One item of a streamed array (a key listing): numbered, on its own line, or a CSV line.</summary>
    public void WriteItem(long number, byte[] value)
    {
        switch (mode)
        {
            case OutputMode.Raw:
                output.Write(value);
                break;
            case OutputMode.Csv:
                output.Write(Quote(value));
                break;
            default:
                output.Write(string.Create(CultureInfo.InvariantCulture, $"{number}) "));
                output.Write(Quote(value));
                break;
        }
        output.Write("\n"u8);
    }

    private void WriteFormatted(ConsoleReply reply, string indent)
    {
        switch (reply)
        {
            case ConsoleReply.Multi { Items.Count: 0 }:
                output.WriteLine("(empty array)");
                break;
            case ConsoleReply.Multi multi:
                var width = multi.Items.Count.ToString(CultureInfo.InvariantCulture).Length;
                for (var i = 0; i < multi.Items.Count; i++)
                {
                    var label = string.Create(CultureInfo.InvariantCulture, $"{(i + 1).ToString(CultureInfo.InvariantCulture).PadLeft(width)}) ");
                    output.Write(i == 0 ? label : indent + label);
                    WriteFormatted(multi.Items[i], indent + new string(' ', label.Length));
                }
                break;
            case ConsoleReply.Text text:
                WriteText(text.Value);
                break;
            case ConsoleReply.Printed:
                break;
            default:
                output.WriteLine(Scalar(reply, quote: true));
                break;
        }
    }

    private void WriteRaw(ConsoleReply reply)
    {
        switch (reply)
        {
            case ConsoleReply.Bulk bulk:
                output.Write(bulk.Value);
                output.Write("\n"u8);
                break;
            case ConsoleReply.Multi multi:
                foreach (var item in multi.Items)
                    WriteRaw(item);
                break;
            case ConsoleReply.Text text:
                WriteText(text.Value);
                break;
            case ConsoleReply.Printed:
                break;
            case ConsoleReply.Nil:
                output.Write("\n"u8);
                break;
            default:
                output.WriteLine(Scalar(reply, quote: false));
                break;
        }
    }

    private void WriteCsv(ConsoleReply reply)
    {
        switch (reply)
        {
            case ConsoleReply.Multi multi:
                for (var i = 0; i < multi.Items.Count; i++)
                {
                    if (i > 0)
                        output.Write(","u8);
                    WriteCsv(multi.Items[i]);
                }
                break;
            case ConsoleReply.Text text:
                output.Write(text.Value.TrimEnd('\n'));
                break;
            case ConsoleReply.Printed:
                break;
            case ConsoleReply.Nil:
                output.Write("NULL"u8);
                break;
            case ConsoleReply.Status status:
                output.Write(Quote(Encoding.UTF8.GetBytes(status.Word)));
                break;
            case ConsoleReply.Integer integer:
                output.Write(integer.Value.ToString(CultureInfo.InvariantCulture));
                break;
            default:
                output.Write(Scalar(reply, quote: true));
                break;
        }
    }

    private void WriteText(string text)
    {
        output.Write(text);
        if (text.Length > 0 && text[^1] != '\n')
            output.Write("\n"u8);
    }

    private static string Scalar(ConsoleReply reply, bool quote) => reply switch
    {
        ConsoleReply.Status status => status.Word,
        ConsoleReply.Nil => "(nil)",
        ConsoleReply.Integer integer when quote => string.Create(CultureInfo.InvariantCulture, $"(integer) {integer.Value}"),
        ConsoleReply.Integer integer => integer.Value.ToString(CultureInfo.InvariantCulture),
        ConsoleReply.Bulk bulk => quote ? Quote(bulk.Value) : Encoding.UTF8.GetString(bulk.Value),
        _ => reply.ToString()!,
    };

    /// <summary>
    /// A byte string as redis-cli shows one (sdscatrepr): in double quotes, printable ASCII as it is,
    /// <c>\\ \" \n \r \t \a \b</c>, every other byte as <c>\xHH</c>. Reading it back with the prompt's
    /// quoting gives the same bytes.
    /// </summary>
    public static string Quote(ReadOnlySpan<byte> value)
    {
        var text = new StringBuilder(value.Length + 2);
        text.Append('"');
        foreach (var b in value)
        {
            switch (b)
            {
                case (byte)'\\': text.Append(@"\\"); break;
                case (byte)'"': text.Append("\\\""); break;
                case (byte)'\n': text.Append(@"\n"); break;
                case (byte)'\r': text.Append(@"\r"); break;
                case (byte)'\t': text.Append(@"\t"); break;
                case 0x07: text.Append(@"\a"); break;
                case 0x08: text.Append(@"\b"); break;
                case >= 0x20 and < 0x7f: text.Append((char)b); break;
                default: text.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}"); break;
            }
        }
        return text.Append('"').ToString();
    }
}
