namespace KvnDb.Resp;

/// <summary>
/// Where each argument of the current command sits inside the command's bytes (offset, length).
/// Reused for every command of a connection; grows with arguments actually parsed, never with
/// what a peer claims.
/// </summary>
internal sealed class RespArguments
{
    private int[] _offsets = new int[8];
    private int[] _lengths = new int[8];

    public int Count { get; private set; }

    public void Clear() => Count = 0;

    public void Add(int offset, int length)
    {
        if (Count == _offsets.Length)
        {
            Array.Resize(ref _offsets, Count * 2);
            Array.Resize(ref _lengths, Count * 2);
        }
        _offsets[Count] = offset;
        _lengths[Count] = length;
        Count++;
    }

    public int Offset(int index) => _offsets[index];

    public int Length(int index) => _lengths[index];
}
