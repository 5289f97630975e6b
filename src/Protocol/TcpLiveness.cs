using System.Net.Sockets;

namespace KvnDb.Protocol;

/// <summary>
/// The kernel's checks under a link's own heartbeat: TCP keepalive (an idle peer that vanished is found
/// by probes) and, on Linux, <c>TCP_USER_TIMEOUT</c> (data that stays unacknowledged this long closes the
/// connection instead of retransmitting for the ~15 minutes of the default). They are the floor: the
/// heartbeats above them notice a silent peer sooner, and these still hold if a heartbeat does not.
/// </summary>
public static class TcpLiveness
{
    private const int IpProtoTcp = 6;
    private const int TcpUserTimeoutOption = 18;
    private static readonly TimeSpan Unbounded = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Keepalive probes start after half of <paramref name="deadAfter"/> of idleness, one a second, three
    /// of them; unacknowledged data closes the link after twice <paramref name="deadAfter"/>. An infinite
    /// <paramref name="deadAfter"/> uses 30 s.
    /// </summary>
    public static void Apply(Socket socket, TimeSpan deadAfter)
    {
        if (deadAfter <= TimeSpan.Zero || deadAfter == Timeout.InfiniteTimeSpan)
            deadAfter = Unbounded;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)Math.Max(1, Math.Ceiling(deadAfter.TotalSeconds / 2)));
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 1);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
        }
        catch (Exception ex) when (ex is SocketException or PlatformNotSupportedException)
        {
            // Older platforms: keepalive with the system's timings.
        }
        if (OperatingSystem.IsLinux())
        {
            // An unsigned int of milliseconds in the machine's byte order.
            Span<byte> milliseconds = stackalloc byte[sizeof(uint)];
            BitConverter.TryWriteBytes(milliseconds, (uint)Math.Min(int.MaxValue, 2 * deadAfter.TotalMilliseconds));
            socket.SetRawSocketOption(IpProtoTcp, TcpUserTimeoutOption, milliseconds);
        }
    }
}
