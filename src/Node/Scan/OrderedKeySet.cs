namespace KvnDb.Node.Scan;

/// <summary>
/// One database's stored keys sorted by (scan order, key bytes), in blocks of at most <see cref="BlockCapacity"/>
/// entries kept in a sorted list (the layout of a B+ tree's leaves, one level of index): adding, removing and
/// finding a position cost two binary searches and a short copy, walking on costs nothing per key. A key present
/// is found without allocating; only a new key is copied. Not thread-safe: the node's link loop owns it.
/// </summary>
internal sealed class OrderedKeySet
{
    public const int BlockCapacity = 256;

    private readonly List<Block> _blocks = [];

    public long Count { get; private set; }

    /// <summary>Adds the key (stored form) at <paramref name="order"/>; false when it is already there.</summary>
    public bool Add(ulong order, ReadOnlySpan<byte> key)
    {
        if (_blocks.Count == 0)
        {
            var first = new Block();
            first.Insert(0, new ScanEntry(order, key.ToArray()));
            _blocks.Add(first);
            Count++;
            return true;
        }
        var blockIndex = FindBlock(order, key);
        if (blockIndex == _blocks.Count)
            blockIndex--; // after every key: the last block takes it
        var block = _blocks[blockIndex];
        var index = block.Search(order, key);
        if (index >= 0)
            return false;
        index = ~index;
        var entry = new ScanEntry(order, key.ToArray());
        if (block.Count == BlockCapacity)
        {
            var right = block.SplitOff();
            _blocks.Insert(blockIndex + 1, right);
            var leftCount = block.Count;
            if (index > leftCount)
            {
                block = right;
                index -= leftCount;
            }
        }
        block.Insert(index, entry);
        Count++;
        return true;
    }

    /// <summary>Removes the key; false when it was not there.</summary>
    public bool Remove(ulong order, ReadOnlySpan<byte> key)
    {
        var blockIndex = FindBlock(order, key);
        if (blockIndex == _blocks.Count)
            return false;
        var block = _blocks[blockIndex];
        var index = block.Search(order, key);
        if (index < 0)
            return false;
        block.RemoveAt(index);
        if (block.Count == 0)
            _blocks.RemoveAt(blockIndex);
        Count--;
        return true;
    }

    public void Clear()
    {
        _blocks.Clear();
        Count = 0;
    }

    /// <summary>Walks the keys from the first whose order is at least <paramref name="minOrder"/>.</summary>
    public Walker From(ulong minOrder)
    {
        // The first block whose last order reaches minOrder, then the first entry in it that does.
        int low = 0, high = _blocks.Count;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (_blocks[middle].Last.Order < minOrder)
                low = middle + 1;
            else
                high = middle;
        }
        var index = low < _blocks.Count ? _blocks[low].LowerBound(minOrder) : 0;
        return new Walker(_blocks, low, index);
    }

    /// <summary>The first block whose last entry is at or after (order, key); the block count when none is.</summary>
    private int FindBlock(ulong order, ReadOnlySpan<byte> key)
    {
        int low = 0, high = _blocks.Count;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            var last = _blocks[middle].Last;
            if (ScanEntry.Compare(last.Order, last.Key, order, key) < 0)
                low = middle + 1;
            else
                high = middle;
        }
        return low;
    }

    /// <summary>Entries in order from a starting point; valid until the set changes.</summary>
    public struct Walker
    {
        private readonly List<Block> _blocks;
        private int _block;
        private int _index;

        internal Walker(List<Block> blocks, int block, int index)
        {
            _blocks = blocks;
            _block = block;
            _index = index - 1;
            Current = default;
        }

        public ScanEntry Current { get; private set; }

        public bool MoveNext()
        {
            _index++;
            while (_block < _blocks.Count && _index >= _blocks[_block].Count)
            {
                _block++;
                _index = 0;
            }
            if (_block >= _blocks.Count)
                return false;
            Current = _blocks[_block].Items[_index];
            return true;
        }
    }

    internal sealed class Block
    {
        public readonly ScanEntry[] Items = new ScanEntry[BlockCapacity];

        public int Count { get; private set; }

        public ScanEntry Last => Items[Count - 1];

        /// <summary>The entry's index, or the complement of where it would go.</summary>
        public int Search(ulong order, ReadOnlySpan<byte> key)
        {
            int low = 0, high = Count - 1;
            while (low <= high)
            {
                var middle = (low + high) >>> 1;
                var entry = Items[middle];
                var comparison = ScanEntry.Compare(entry.Order, entry.Key, order, key);
                if (comparison == 0)
                    return middle;
                if (comparison < 0)
                    low = middle + 1;
                else
                    high = middle - 1;
            }
            return ~low;
        }

        /// <summary>The index of the first entry whose order is at least <paramref name="order"/> (Count when none).</summary>
        public int LowerBound(ulong order)
        {
            int low = 0, high = Count;
            while (low < high)
            {
                var middle = (low + high) >>> 1;
                if (Items[middle].Order < order)
                    low = middle + 1;
                else
                    high = middle;
            }
            return low;
        }

        public void Insert(int index, ScanEntry entry)
        {
            Array.Copy(Items, index, Items, index + 1, Count - index);
            Items[index] = entry;
            Count++;
        }

        public void RemoveAt(int index)
        {
            Count--;
            Array.Copy(Items, index + 1, Items, index, Count - index);
            Items[Count] = default; // let the key go
        }

        /// <summary>Moves the upper half into a new block, returned.</summary>
        public Block SplitOff()
        {
            var right = new Block();
            var keep = Count / 2;
            Array.Copy(Items, keep, right.Items, 0, Count - keep);
            right.Count = Count - keep;
            Array.Clear(Items, keep, Count - keep);
            Count = keep;
            return right;
        }
    }
}
