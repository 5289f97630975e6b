using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>
/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX, XX, GT, LT), PERSIST: one Expire each, decided by the nodes
/// with the router's clock; TTL, PTTL, EXPIRETIME, PEXPIRETIME: one TimeToLive read.
/// </summary>
internal sealed partial class RespSession
{
    private void Expire(in RespRequest request, bool milliseconds, bool absolute, string name)
    {
        if (!TryParseInteger(request[2], out var amount))
        {
            ReplyError("ERR value is not an integer or out of range");
            return;
        }
        var condition = ExpiryCondition.Always;
        bool nx = false, xx = false, gt = false, lt = false;
        for (var i = 3; i < request.Count; i++)
        {
            if (RespCommandTable.Is(request[i], "NX"u8))
                nx = true;
            else if (RespCommandTable.Is(request[i], "XX"u8))
                xx = true;
            else if (RespCommandTable.Is(request[i], "GT"u8))
                gt = true;
            else if (RespCommandTable.Is(request[i], "LT"u8))
                lt = true;
            else
            {
                ReplyError($"ERR Unsupported option {Printable(request[i])}");
                return;
            }
        }
        if (nx && (xx || gt || lt))
        {
            ReplyError("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if (gt && lt)
        {
            ReplyError("ERR GT and LT options at the same time are not compatible");
            return;
        }
        // GT treats no expiry as infinitely late (never exceeded), so XX GT is GT; XX LT needs both.
        condition = nx ? ExpiryCondition.NoExpiry : gt ? ExpiryCondition.Later : lt && xx ? ExpiryCondition.HasExpiryEarlier
            : lt ? ExpiryCondition.Earlier : xx ? ExpiryCondition.HasExpiry : ExpiryCondition.Always;
        if (!milliseconds)
        {
            if (amount > long.MaxValue / 1000 || amount < long.MinValue / 1000)
            {
                ReplyError($"ERR invalid expire time in '{name}' command");
                return;
            }
            amount *= 1000;
        }
        if (!absolute && amount > 0 && amount > long.MaxValue - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
        {
            ReplyError($"ERR invalid expire time in '{name}' command");
            return;
        }
        if (!KeyFits(request[1]))
            return;
        BeginCommand(ReplyKind.Flag);
        var key = DbKey(request[1]);
        ExpireRequest.WriteBody(AddOp(Opcode.Expire, ExpireRequest.BodyLength(key.Length)),
            absolute ? ExpiryMode.Absolute : ExpiryMode.Relative, condition, amount, key);
        EndCommand();
    }

    private void Persist(in RespRequest request)
    {
        if (!KeyFits(request[1]))
            return;
        BeginCommand(ReplyKind.Flag);
        var key = DbKey(request[1]);
        ExpireRequest.WriteBody(AddOp(Opcode.Expire, ExpireRequest.BodyLength(key.Length)), ExpiryMode.Persist, ExpiryCondition.Always, 0, key);
        EndCommand();
    }

    private void TimeToLive(in RespRequest request, int variant)
    {
        if (!KeyFits(request[1]))
            return;
        var shape = BeginCommand(ReplyKind.TimeToLive);
        shape.Variant = variant;
        AddKeyOp(Opcode.TimeToLive, DbKey(request[1]));
        EndCommand();
    }
}
