// Bulk import of a CSV or JSON-lines file, in batched multi-sets, with a progress bar.
//
//   kvndb-script samples/import.csx --port 54565 -- data.csv   [--key COLUMN] [--prefix P] [--batch 1000] [--parallel 4]
//   kvndb-script samples/import.csx -- dump.jsonl              [--key FIELD]  [--format csv|jsonl]
//
// CSV: the first row names the columns; --key picks the key column (default: the first). With one other
// column its text is the value; with several, the value is a JSON object of them.
// JSON lines: by default each line is {"key": ..., "value": ...} as export.csx writes it (a string value
// is stored as its text, another JSON value as JSON, "value_base64" as raw bytes). With --key FIELD, any
// object works: that field is the key and the whole line the value.
// A malformed record is reported with its line number and skipped; the exit code is then 2.
#nullable enable
#load "include/options.csx"
#load "include/progress.csx"
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

var options = new SampleArgs(Args);
if (options.Positional.Count != 1)
{
    Console.Error.WriteLine("usage: import.csx FILE [--format csv|jsonl] [--key NAME] [--prefix P] [--batch N] [--parallel N]");
    return 64;
}
var path = Path.GetFullPath(options.Positional[0]);
var format = options.Get("format") ?? (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "jsonl");
if (format is not ("csv" or "jsonl"))
    throw new ArgumentException($"--format must be csv or jsonl, not '{format}'");
var keyName = options.Get("key");
var prefix = options.Get("prefix", "");
var batchSize = options.GetInt("batch", 1000);
var compactJson = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
var parallel = options.GetInt("parallel", 4);

// (Script top level allows no "using var"; the process exit closes the file.)
var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
var reader = new StreamReader(file, Encoding.UTF8);
var progress = new ProgressBar($"import {Path.GetFileName(path)}", file.Length);
var batch = new List<KeyValuePair<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>>(batchSize);
var inFlight = new Queue<Task>();
long imported = 0, bytes = 0, skipped = 0, lineNumber = 0;

void Skip(long line, string why)
{
    skipped++;
    if (skipped <= 10)
        Log.LogWarning("{File}({Line}): skipped: {Why}", path, line, why);
}

async Task AddAsync(string key, byte[] value)
{
    var keyBytes = Encoding.UTF8.GetBytes(prefix + key);
    batch.Add(KeyValuePair.Create((ReadOnlyMemory<byte>)keyBytes, (ReadOnlyMemory<byte>)value));
    bytes += keyBytes.Length + value.Length;
    if (batch.Count >= batchSize)
        await FlushAsync();
}

// Up to --parallel batches travel at once; the oldest is awaited before another is sent.
async Task FlushAsync()
{
    if (batch.Count == 0)
        return;
    if (inFlight.Count >= parallel)
        await inFlight.Dequeue();
    inFlight.Enqueue(Kv.MultiSetAsync(batch.ToArray(), cancellationToken: Cancellation));
    imported += batch.Count;
    batch.Clear();
    progress.Report(file.Position, imported);
}

// One CSV record (RFC 4180: quoted fields may hold commas, quotes as "" and line breaks); null at the end.
List<string>? ReadCsvRecord()
{
    var line = reader.ReadLine();
    if (line is null)
        return null;
    lineNumber++;
    var fields = new List<string>();
    var field = new StringBuilder();
    var quoted = false;
    for (var i = 0; ; i++)
    {
        if (i == line.Length)
        {
            if (!quoted)
                break;
            var next = reader.ReadLine() ?? throw new FormatException($"line {lineNumber}: a quoted field is never closed");
            lineNumber++;
            field.Append('\n');
            line = next;
            i = -1;
            continue;
        }
        var c = line[i];
        if (quoted)
        {
            if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
            else if (c == '"') quoted = false;
            else field.Append(c);
        }
        else if (c == '"') quoted = true;
        else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
        else field.Append(c);
    }
    fields.Add(field.ToString());
    return fields;
}

if (format == "csv")
{
    var header = ReadCsvRecord() ?? throw new FormatException($"{path}: empty file, expected a header row");
    var keyColumn = keyName is null ? 0 : header.IndexOf(keyName);
    if (keyColumn < 0)
        throw new ArgumentException($"--key {keyName}: no such column; the columns are {string.Join(", ", header)}");
    while (true)
    {
        Cancellation.ThrowIfCancellationRequested();
        var first = lineNumber + 1;
        var row = ReadCsvRecord();
        if (row is null)
            break;
        if (row.Count == 1 && row[0].Length == 0)
            continue;
        if (row.Count != header.Count)
        {
            Skip(first, $"{row.Count} fields, the header has {header.Count}");
            continue;
        }
        if (row[keyColumn].Length == 0)
        {
            Skip(first, "empty key");
            continue;
        }
        byte[] value;
        if (header.Count == 2)
        {
            value = Encoding.UTF8.GetBytes(row[1 - keyColumn]);
        }
        else
        {
            var json = new JsonObject();
            for (var c = 0; c < header.Count; c++)
                if (c != keyColumn)
                    json[header[c]] = row[c];
            value = Encoding.UTF8.GetBytes(json.ToJsonString(compactJson));
        }
        await AddAsync(row[keyColumn], value);
    }
}
else
{
    while (await reader.ReadLineAsync(Cancellation) is { } line)
    {
        lineNumber++;
        if (string.IsNullOrWhiteSpace(line))
            continue;
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException ex)
        {
            Skip(lineNumber, $"not JSON: {ex.Message}");
            continue;
        }
        if (json is null)
        {
            Skip(lineNumber, "not a JSON object");
            continue;
        }
        var keyNode = json[keyName ?? "key"];
        if (keyNode is null)
        {
            Skip(lineNumber, $"no \"{keyName ?? "key"}\" field");
            continue;
        }
        var key = keyNode.GetValueKind() == JsonValueKind.String ? keyNode.GetValue<string>() : keyNode.ToJsonString(compactJson);
        byte[] value;
        try
        {
            if (keyName is not null)
                value = Encoding.UTF8.GetBytes(json.ToJsonString(compactJson));
            else if (json["value_base64"] is JsonNode base64)
                value = Convert.FromBase64String(base64.GetValue<string>());
            else if (json["value"] is JsonNode valueNode)
                value = Encoding.UTF8.GetBytes(valueNode.GetValueKind() == JsonValueKind.String ? valueNode.GetValue<string>() : valueNode.ToJsonString(compactJson));
            else
            {
                Skip(lineNumber, "no \"value\" or \"value_base64\" field (use --key FIELD to store whole objects)");
                continue;
            }
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        {
            Skip(lineNumber, $"bad value_base64: {ex.Message}");
            continue;
        }
        await AddAsync(key, value);
    }
}
await FlushAsync();
await Task.WhenAll(inFlight);
progress.Done(imported);
Console.WriteLine($"imported {imported:N0} records ({bytes:N0} bytes) from {Path.GetFileName(path)}" +
    (skipped > 0 ? $"; skipped {skipped:N0} malformed records" : ""));
return skipped > 0 ? 2 : 0;
