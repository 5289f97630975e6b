// Export of all keys (or those under a prefix) to JSON lines: {"key": "...", "value": "..."} per line.
//
//   kvndb-script samples/export.csx --port 54565 -- [--prefix P] [--out FILE] [--batch 500]
//
// Writes to standard output unless --out is given; progress goes to standard error. A key or value that
// is not valid UTF-8 is written as "key_base64" / "value_base64" instead. The file feeds import.csx as is.
// Keys are streamed from the router chunk by chunk and values fetched in multi-gets: memory stays flat.
#nullable enable
#load "include/options.csx"
#load "include/progress.csx"
using System.Text.Encodings.Web;
using System.Text.Json;

var options = new SampleArgs(Args);
var prefix = options.Get("prefix", "");
var outPath = options.Get("out");
var batchSize = options.GetInt("batch", 500);

var strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
var output = outPath is null ? Console.OpenStandardOutput() : File.Create(outPath);
// Relaxed escaping keeps quotes and non-ASCII text readable (the output is data, not HTML).
var json = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
var progress = new ProgressBar("export", total: 0);
var keys = new List<ReadOnlyMemory<byte>>(batchSize);
long exported = 0, vanished = 0;

void WriteBytes(string name, byte[] bytes)
{
    string? text = null;
    try
    {
        text = strictUtf8.GetString(bytes);
    }
    catch (DecoderFallbackException)
    {
    }
    if (text is null)
        json.WriteBase64String(name + "_base64", bytes);
    else
        json.WriteString(name, text);
}

async Task FlushAsync()
{
    if (keys.Count == 0)
        return;
    var values = await Kv.MultiGetAsync(keys, Cancellation);
    for (var i = 0; i < keys.Count; i++)
    {
        if (values[i] is not { } value)
        {
            vanished++; // deleted between the listing and the read
            continue;
        }
        json.WriteStartObject();
        WriteBytes("key", keys[i].ToArray());
        WriteBytes("value", value);
        json.WriteEndObject();
        await json.FlushAsync(Cancellation);
        json.Reset();
        output.WriteByte((byte)'\n');
        exported++;
    }
    keys.Clear();
    progress.Report(0, exported);
}

await foreach (var key in Kv.ListKeysAsync(Encoding.UTF8.GetBytes(prefix), Cancellation))
{
    keys.Add(key);
    if (keys.Count >= batchSize)
        await FlushAsync();
}
await FlushAsync();
await output.FlushAsync(Cancellation);
await output.DisposeAsync(); // script top level allows no "using var"
progress.Done(exported);
Log.LogInformation("Exported {Count} records{Prefix}{Vanished}", exported,
    prefix.Length > 0 ? $" under '{prefix}'" : "", vanished > 0 ? $" ({vanished} deleted while exporting)" : "");
