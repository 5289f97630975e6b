using System.Text.Json;

namespace KvnDb.Router.Membership;

/// <summary>The one encoding of <see cref="RouterMetadata"/> (a JSON document), shared by the file and the Raft log.</summary>
internal static class RouterMetadataJson
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static byte[] Serialize(RouterMetadata metadata) => JsonSerializer.SerializeToUtf8Bytes(metadata, s_json);

    public static void Serialize(Stream stream, RouterMetadata metadata) => JsonSerializer.Serialize(stream, metadata, s_json);

    /// <summary>Reads a document; refuses a newer format than this router understands. <paramref name="source"/> names it in errors.</summary>
    public static RouterMetadata Deserialize(ReadOnlySpan<byte> document, string source)
    {
        var metadata = JsonSerializer.Deserialize<RouterMetadata>(document, s_json)
            ?? throw new InvalidDataException($"{source} is empty");
        if (metadata.Format > RouterMetadata.CurrentFormat)
            throw new InvalidDataException($"{source} has format {metadata.Format}; this router reads up to {RouterMetadata.CurrentFormat}");
        return metadata;
    }
}
