using System.Text.Json;

namespace KvnDb.Node.Storage;

/// <summary>
/// The format stamp of a data folder, <c>DIR/format.json</c>: which engine wrote the folder, the layout of
/// its records and how its keys are hashed. Written once (atomically, fsynced) when a node first uses an
/// empty folder; checked at every start, before the engine opens a file, so a folder from another build is
/// refused with a clear message instead of being read wrongly (an index hashed another way recovers its
/// keys, then finds none of them).
/// </summary>
public sealed record FormatStamp
{
    public const string FileName = "format.json";

    /// <summary>The shape of this file. A newer one is refused.</summary>
    public const int CurrentFormat = 1;

    /// <summary>
    /// The layout of stored records in every engine (<see cref="StoredLayout"/>: faster values and
    /// write-ahead-log entries, dir files). The one constant to bump when any of them changes: folders
    /// stamped with a newer value are refused, older ones down to <see cref="OldestReadableRecordLayout"/>
    /// are read as they are and restamped. 2: an optional expiry (the sequence's top bit flags it).
    /// </summary>
    public const int CurrentRecordLayout = StoredLayout.RecordLayoutVersion;

    /// <summary>Layout 1 records (no expiry) are layout 2 records without the expiry flag: read unchanged.</summary>
    public const int OldestReadableRecordLayout = 1;

    /// <summary>Segment size of the faster log in folders this build creates: compaction frees disk a segment at a time.</summary>
    public const long DefaultLogSegmentBytes = 64L << 20;

    /// <summary>What folders stamped before the segment size was recorded use: FASTER's default, 1 GiB.</summary>
    public const long LegacyLogSegmentBytes = 1L << 30;

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public int Format { get; init; }

    /// <summary>The engine that wrote the folder (<c>--engine</c>).</summary>
    public string Engine { get; init; } = "";

    public int RecordLayout { get; init; }

    /// <summary>How the engine places keys; part of the on-disk format (see <see cref="KeyHashingOf"/>).</summary>
    public string KeyHashing { get; init; } = "";

    /// <summary>
    /// The faster log's segment file size. Part of the format: FASTER maps an address to a file and an offset by it,
    /// so a folder must be opened with the size it was written with. 0 in stamps written before it was recorded.
    /// </summary>
    public long LogSegmentBytes { get; init; }

    /// <summary>The segment size to open the folder's faster log with.</summary>
    public long EffectiveLogSegmentBytes => LogSegmentBytes == 0 ? LegacyLogSegmentBytes : LogSegmentBytes;

    /// <summary>For people: the program and version that created the folder, and when.</summary>
    public string WrittenBy { get; init; } = "";

    public DateTimeOffset Created { get; init; }

    /// <summary>The stamp this build writes for <paramref name="engine"/>.</summary>
    public static FormatStamp Current(string engine) => new()
    {
        Format = CurrentFormat,
        Engine = engine,
        RecordLayout = CurrentRecordLayout,
        KeyHashing = KeyHashingOf(engine),
        LogSegmentBytes = engine == "faster" ? DefaultLogSegmentBytes : 0,
        WrittenBy = $"kvndb-node {typeof(FormatStamp).Assembly.GetName().Version?.ToString(3) ?? "?"}",
        Created = DateTimeOffset.UtcNow,
    };

    /// <summary>How <paramref name="engine"/> hashes keys on disk (<see cref="FasterKeyComparer"/> for faster; file names for dir).</summary>
    public static string KeyHashingOf(string engine) => engine switch
    {
        "faster" => "xxhash3-64",
        "dir" => "hex-or-sha256-file-names",
        _ => "none",
    };

    /// <summary>The folder's stamp, or null when it has none.</summary>
    public static FormatStamp? Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var text = DurableFile.ReadAllText(path);
        if (text is null)
            return null;
        try
        {
            return JsonSerializer.Deserialize<FormatStamp>(text, s_json) ?? throw new DataFolderException($"{path} is empty");
        }
        catch (JsonException ex)
        {
            throw new DataFolderException($"{path} is not a readable format stamp ({ex.Message}); the folder's format is unknown, so the node does not open it");
        }
    }

    /// <summary>Writes the stamp to the folder: temporary file, fsync, rename, folder fsync.</summary>
    public void Write(string directory) =>
        DurableFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, s_json) + "\n");

    /// <summary>Why this build must not open a folder with this stamp for <paramref name="engine"/>, or null when it can.</summary>
    public string? Incompatibility(string directory, string engine)
    {
        const string StartEmpty = "move the folder aside and start the node on an empty one: it copies everything from its peers";
        if (Format > CurrentFormat)
            return $"{directory} has a format stamp of format {Format}, newer than this build reads ({CurrentFormat}): run the build that wrote it ({WrittenBy})";
        if (Engine != engine)
            return $"{directory} holds a '{Engine}' store, but this node was started with --engine {engine}: start it with --engine {Engine}, or use another --data";
        if (RecordLayout > CurrentRecordLayout)
            return $"{directory} was written by a newer build ({WrittenBy}, record layout {RecordLayout}; this build reads layout {CurrentRecordLayout}): run that build, or {StartEmpty}";
        if (RecordLayout < OldestReadableRecordLayout)
            return $"{directory} was written by an older build ({WrittenBy}, record layout {RecordLayout}; this build reads layouts {OldestReadableRecordLayout} to {CurrentRecordLayout} and has no migration): {StartEmpty}";
        if (KeyHashing != KeyHashingOf(engine))
            return $"{directory} hashes its keys with '{KeyHashing}', this build with '{KeyHashingOf(engine)}' (its keys would all look missing): {StartEmpty}";
        return null;
    }
}
