using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KvnDb.Node.Storage;

/// <summary>
/// One file per key, as the original kvndb's <c>dir</c> engine: simple and inspectable, not fast.
/// A file holds <c>[u64 sequence][i32 key length][key][value]</c>, or with an expiry
/// <c>[u64 sequence | 1 &lt;&lt; 63][i32 key length][key][i64 expires at][value]</c> (<see cref="StoredLayout"/>); its name is the key in hex, or a
/// SHA-256 of the key when the hex would be too long for a file name. Files are replaced atomically
/// (write to a temporary file, then rename), so a crash leaves either the old or the new value.
/// </summary>
public sealed class DirStorageEngine : IStorageEngine
{
    private const int MaxHexNameLength = 200;
    private const string ValueExtension = ".kv";
    private const int FileHeaderSize = 12;
    private readonly string _keysDirectory;
    private readonly string _sequenceFile;
    private ulong _lastSequence;
    private long _count;

    public DirStorageEngine(string directory)
    {
        _keysDirectory = Path.Combine(directory, "keys");
        _sequenceFile = Path.Combine(directory, "last-sequence");
        Directory.CreateDirectory(_keysDirectory);
        if (File.Exists(_sequenceFile) && ulong.TryParse(File.ReadAllText(_sequenceFile), out var last))
            _lastSequence = last;
        _count = Directory.EnumerateFiles(_keysDirectory, "*" + ValueExtension).LongCount();
        Health = new StorageHealth(directory);
    }

    public StorageHealth Health { get; }

    public string Name => "dir";

    public ulong LastSequence => _lastSequence;

    public long Count => _count;

    public bool TryGet(ReadOnlySpan<byte> key, out StoredValue value)
    {
        value = default;
        var path = PathOf(key);
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        var raw = BinaryPrimitives.ReadUInt64LittleEndian(content);
        var keyLength = BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(8));
        var valueOffset = FileHeaderSize + keyLength;
        var expiresAt = 0L;
        if ((raw & StoredLayout.ExpiryFlag) != 0)
        {
            expiresAt = BinaryPrimitives.ReadInt64LittleEndian(content.AsSpan(valueOffset));
            valueOffset += 8;
        }
        value = new StoredValue(content.AsMemory(valueOffset), raw & ~StoredLayout.ExpiryFlag, expiresAt: expiresAt);
        return true;
    }

    public bool Exists(ReadOnlySpan<byte> key) => File.Exists(PathOf(key));

    public bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence) => Set(key, value, sequence, 0);

    public bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt)
    {
        var path = PathOf(key);
        var existed = File.Exists(path);
        var expirySize = expiresAt == 0 ? 0 : 8;
        var content = new byte[FileHeaderSize + key.Length + expirySize + value.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(content, expiresAt == 0 ? sequence : sequence | StoredLayout.ExpiryFlag);
        BinaryPrimitives.WriteInt32LittleEndian(content.AsSpan(8), key.Length);
        key.CopyTo(content.AsSpan(FileHeaderSize));
        if (expiresAt != 0)
            BinaryPrimitives.WriteInt64LittleEndian(content.AsSpan(FileHeaderSize + key.Length), expiresAt);
        value.CopyTo(content.AsSpan(FileHeaderSize + key.Length + expirySize));
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
        if (!existed)
            _count++;
        RecordSequence(sequence);
        return !existed;
    }

    public bool Delete(ReadOnlySpan<byte> key, ulong sequence)
    {
        var path = PathOf(key);
        var existed = File.Exists(path);
        if (existed)
        {
            File.Delete(path);
            _count--;
        }
        RecordSequence(sequence);
        return existed;
    }

    public IEnumerable<byte[]> ListKeys(ReadOnlyMemory<byte> prefix)
    {
        foreach (var path in Directory.EnumerateFiles(_keysDirectory, "*" + ValueExtension))
        {
            var key = ReadKey(path);
            if (key is not null && key.AsSpan().StartsWith(prefix.Span))
                yield return key;
        }
    }

    public void Clear()
    {
        foreach (var path in Directory.EnumerateFiles(_keysDirectory))
            File.Delete(path);
        _count = 0;
        _lastSequence = 0;
        File.Delete(_sequenceFile);
    }

    public void MarkApplied(ulong sequence) => RecordSequence(sequence);

    public void ResetLastSequence(ulong sequence)
    {
        _lastSequence = sequence;
        WriteSequenceFile(sequence);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Health.Dispose();
        return ValueTask.CompletedTask;
    }

    private static byte[]? ReadKey(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> header = stackalloc byte[FileHeaderSize];
            file.ReadExactly(header);
            var key = new byte[BinaryPrimitives.ReadInt32LittleEndian(header[8..])];
            file.ReadExactly(key);
            return key;
        }
        catch (IOException)
        {
            return null; // deleted while listing
        }
    }

    private void RecordSequence(ulong sequence)
    {
        if (sequence <= _lastSequence)
            return;
        _lastSequence = sequence;
        WriteSequenceFile(sequence);
    }

    private void WriteSequenceFile(ulong sequence)
    {
        var temporary = _sequenceFile + ".tmp";
        File.WriteAllText(temporary, sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.Move(temporary, _sequenceFile, overwrite: true);
    }

    private string PathOf(ReadOnlySpan<byte> key)
    {
        var name = key.Length * 2 <= MaxHexNameLength
            ? "k" + Convert.ToHexStringLower(key)
            : "h" + Convert.ToHexStringLower(SHA256.HashData(key));
        return Path.Combine(_keysDirectory, name + ValueExtension);
    }
}
