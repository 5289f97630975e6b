using System.Buffers;
using System.Text;
using KvnDb.Node;
using KvnDb.Node.Commands;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Commands;

/// <summary>The node's evaluation of writes against a store, without sockets: outcomes, versions, expiry, transactions.</summary>
public sealed class CommandEvaluatorTests
{
    private const long Now = 1_700_000_000_000;
    private readonly NodeStore _store = new(new RamStorageEngine());
    private readonly CommandEvaluator _evaluator = new(1 << 20);
    private readonly ScratchBuffer _body = new();
    private ulong _sequence;

    private (StatusCode Status, byte[] Body) Run(Opcode opcode, Func<Span<byte>, int> write, int length, long now = Now)
    {
        var request = new byte[length];
        write(request);
        _body.Reset();
        var status = _evaluator.Evaluate(_store, opcode, request, ++_sequence, now, _body);
        return (status, _body.WrittenSpan.ToArray());
    }

    private (StatusCode, byte[]) SetWhen(string key, string value, SetWhenHeader header, long now = Now) =>
        Run(Opcode.SetWhen, d => SetWhenRequest.WriteBody(d, header, Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value)),
            SetWhenRequest.BodyLength(Encoding.UTF8.GetByteCount(key), Encoding.UTF8.GetByteCount(value)), now);

    private (StatusCode, byte[]) Increment(string key, long by, long now = Now) =>
        Run(Opcode.Increment, d => IncrementRequest.WriteBody(d, by, Encoding.UTF8.GetBytes(key)), IncrementRequest.BodyLength(Encoding.UTF8.GetByteCount(key)), now);

    private string? Value(string key, long now = Now) =>
        _store.TryRead(Encoding.UTF8.GetBytes(key), now, out var stored) ? Encoding.UTF8.GetString(stored.Value.Span) : null;

    [Fact]
    public void Set_if_absent_writes_once_and_reports_the_winners_version()
    {
        var first = SetWhen("k", "a", new SetWhenHeader(WriteCondition.NotExists, SetOptions.None, 0, 0));
        var second = SetWhen("k", "b", new SetWhenHeader(WriteCondition.NotExists, SetOptions.ReturnOld, 0, 0));
        Assert.Equal(StatusCode.Ok, first.Item1);
        Assert.Equal(StatusCode.ConditionFailed, second.Item1);
        Assert.True(VersionedValueReply.TryRead(second.Item2, out var version, out var old, out var present));
        Assert.Equal(1UL, version);
        Assert.True(present);
        Assert.Equal("a", Encoding.UTF8.GetString(old));
        Assert.Equal("a", Value("k"));
    }

    [Fact]
    public void Compare_and_set_holds_only_for_the_current_version()
    {
        SetWhen("k", "a", default);
        Assert.Equal(StatusCode.ConditionFailed, SetWhen("k", "b", new SetWhenHeader(WriteCondition.VersionEquals, SetOptions.None, 7, 0)).Item1);
        Assert.Equal(StatusCode.Ok, SetWhen("k", "c", new SetWhenHeader(WriteCondition.VersionEquals, SetOptions.None, 1, 0)).Item1);
        Assert.Equal("c", Value("k"));
        Assert.Equal(StatusCode.Ok, SetWhen("new", "x", new SetWhenHeader(WriteCondition.VersionEquals, SetOptions.None, 0, 0)).Item1);
    }

    [Fact]
    public void A_relative_expiry_is_taken_from_the_writes_time_and_an_expired_key_is_absent_for_the_next_write()
    {
        SetWhen("k", "a", new SetWhenHeader(WriteCondition.Always, SetOptions.ExpiryRelative, 0, 200));
        Assert.Equal("a", Value("k", Now + 200));
        Assert.Null(Value("k", Now + 201));
        Assert.Equal(StatusCode.Ok, SetWhen("k", "b", new SetWhenHeader(WriteCondition.NotExists, SetOptions.None, 0, 0), now: Now + 201).Item1);
        Assert.Equal(0, _store.Expiry.Count); // the new value does not expire
    }

    [Fact]
    public void Increments_keep_the_expiry_and_fail_alike_on_text()
    {
        SetWhen("n", "5", new SetWhenHeader(WriteCondition.Always, SetOptions.ExpiryRelative, 0, 1000));
        var (status, body) = Increment("n", 3);
        Assert.Equal(StatusCode.Ok, status);
        Assert.True(VersionedNumberReply.TryRead(body, out _, out var value));
        Assert.Equal(8, value);
        Assert.True(_store.TryRead("n"u8, Now, out var stored));
        Assert.Equal(Now + 1000, stored.ExpiresAt);
        SetWhen("t", "abc", default);
        var failed = Increment("t", 1);
        Assert.Equal(StatusCode.InvalidValue, failed.Item1);
        Assert.Equal("value is not an integer or out of range", Encoding.UTF8.GetString(failed.Item2));
    }

    [Fact]
    public void A_time_mark_removes_exactly_the_keys_expired_at_its_time_and_names_the_next()
    {
        SetWhen("a", "1", new SetWhenHeader(WriteCondition.Always, SetOptions.ExpiryAbsolute, 0, Now + 10));
        SetWhen("b", "1", new SetWhenHeader(WriteCondition.Always, SetOptions.ExpiryAbsolute, 0, Now + 20));
        SetWhen("c", "1", default);
        var (status, body) = Run(Opcode.TimeMark, _ => 0, 0, now: Now + 15);
        Assert.Equal(StatusCode.Ok, status);
        Assert.True(TimeMarkReply.TryRead(body, out var removed, out var next));
        Assert.Equal(1, removed);
        Assert.Equal(Now + 20, next);
        Assert.False(_store.Engine.Exists("a"u8));
        Assert.True(_store.Engine.Exists("b"u8));
    }

    [Fact]
    public void A_transaction_with_a_failing_operation_changes_nothing()
    {
        SetWhen("t", "abc", default);
        var transaction = Transaction(writer =>
        {
            writer.BeginOperations(2);
            SetRequest.WriteBody(writer.Operation(Opcode.Set, SetRequest.BodyLength(1, 1)), "x"u8, "1"u8);
            IncrementRequest.WriteBody(writer.Operation(Opcode.Increment, IncrementRequest.BodyLength(1)), 1, "t"u8);
        }, guards: 0, SetRequest.BodyLength(1, 1), IncrementRequest.BodyLength(1));
        Assert.Equal(StatusCode.InvalidValue, transaction.Item1);
        Assert.Null(Value("x"));
    }

    private (StatusCode, byte[]) Transaction(Action<TransactionBodyWriterBox> build, int guards, params int[] operationLengths)
    {
        var length = TransactionRequest.FixedSize + operationLengths.Sum(TransactionRequest.OperationSize);
        return Run(Opcode.Transaction, d =>
        {
            var box = new TransactionBodyWriterBox(d.ToArray().Length, guards);
            build(box);
            box.Bytes.CopyTo(d);
            return length;
        }, length);
    }

    /// <summary>A transaction body written into an array (a ref struct cannot cross a lambda).</summary>
    private sealed class TransactionBodyWriterBox(int length, int guards)
    {
        private readonly List<(Opcode, byte[])> _operations = [];
        private int _count;

        public byte[] Bytes
        {
            get
            {
                var bytes = new byte[length];
                var writer = new TransactionBodyWriter(bytes, guards);
                writer.BeginOperations(_count);
                foreach (var (opcode, body) in _operations)
                    body.CopyTo(writer.Operation(opcode, body.Length));
                writer.Complete();
                return bytes;
            }
        }

        public void BeginOperations(int count) => _count = count;

        public Span<byte> Operation(Opcode opcode, int bodyLength)
        {
            var body = new byte[bodyLength];
            _operations.Add((opcode, body));
            return body;
        }
    }
}
