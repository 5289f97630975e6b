using System.Globalization;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT: one Increment (or IncrementFloat) each, computed by the nodes.</summary>
internal sealed partial class RespSession
{
    /// <summary>INCR and DECR (<paramref name="sign"/> 1 or -1), INCRBY and DECRBY with an argument.</summary>
    private void Increment(in RespRequest request, long sign, bool withAmount)
    {
        long delta = 1;
        if (withAmount && !TryParseInteger(request[2], out delta))
        {
            ReplyError("ERR value is not an integer or out of range");
            return;
        }
        if (sign < 0)
        {
            if (delta == long.MinValue)
            {
                ReplyError("ERR decrement would overflow");
                return;
            }
            delta = -delta;
        }
        if (!KeyFits(request[1]))
            return;
        BeginCommand(ReplyKind.Integer);
        var key = DbKey(request[1]);
        IncrementRequest.WriteBody(AddOp(Opcode.Increment, IncrementRequest.BodyLength(key.Length)), delta, key);
        EndCommand();
    }

    private void IncrementFloat(in RespRequest request)
    {
        var text = Encoding.UTF8.GetString(request[2]);
        // strtold reads "inf" and "infinity" (any case, signed): a valid float whose sum is not finite.
        var unsigned = text.TrimStart('+', '-');
        if (unsigned.Equals("inf", StringComparison.OrdinalIgnoreCase) || unsigned.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            ReplyError("ERR increment would produce NaN or Infinity");
            return;
        }
        if (text.Length == 0 || char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1])
            || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var delta) || double.IsNaN(delta))
        {
            ReplyError("ERR value is not a valid float");
            return;
        }
        if (!double.IsFinite(delta))
        {
            ReplyError("ERR increment would produce NaN or Infinity");
            return;
        }
        if (!KeyFits(request[1]))
            return;
        BeginCommand(ReplyKind.FloatValue);
        var key = DbKey(request[1]);
        FloatIncrementRequest.WriteBody(AddOp(Opcode.IncrementFloat, FloatIncrementRequest.BodyLength(key.Length)), delta, key);
        EndCommand();
    }
}
