using System.Net.Sockets;

namespace KvnDb.Protocol;

/// <summary>
/// TCP-level liveness for every KvnDb link, the floor under the protocol's own heartbeats: keepalive
/// probes find a peer that vanished while the link was idle, and <c>TCP_USER_TIMEOUT</c> (Linux)
/// bounds how long sent data may stay unacknowledged before the kernel gives up on the link.
/// </summary>
public static class TcpKeepAlive
{
    private const int TcpUserTimeout = 18; // IPPROTO_TCP option on Linux

    public static void Enable(Socket socket, int idleSeconds = 5, int intervalSeconds = 1, int probes = 3, int userTimeoutMs = 10_000)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, idleSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, intervalSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, probes);
        if (OperatingSystem.IsLinux())
            socket.SetRawSocketOption((int)SocketOptionLevel.Tcp, TcpUserTimeout, BitConverter.GetBytes(userTimeoutMs));
    }
}
