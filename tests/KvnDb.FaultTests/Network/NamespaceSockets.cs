using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KvnDb.FaultTests.Network;

/// <summary>
/// Creates sockets that live in a network namespace while the test process stays in its own. A
/// socket belongs to the namespace of the thread that created it, for life, and <c>setns</c> moves
/// only the calling thread: so each socket is made on a short-lived thread that joined the namespace
/// first. Everything after creation (connect, accept, I/O) works from any thread.
/// </summary>
public static class NamespaceSockets
{
    private static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A new IPv4 TCP socket in <paramref name="namespaceName"/>, or in the test's own namespace when null.</summary>
    public static Socket CreateTcp(string? namespaceName)
    {
        if (namespaceName is null)
            return new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine("/run/netns", namespaceName));
                if (Native.setns((int)handle.DangerousGetHandle(), Native.CloneNewNet) != 0)
                    throw new InvalidOperationException($"setns({namespaceName}) failed: errno {Marshal.GetLastPInvokeError()}");
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        })
        {
            IsBackground = true,
            Name = $"netns {namespaceName}",
        };
        thread.Start();
        if (!thread.Join(CreateTimeout))
            throw new TimeoutException($"creating a socket in {namespaceName} took over {CreateTimeout}");
        return socket ?? throw new InvalidOperationException($"cannot create a socket in {namespaceName}", failure);
    }
}
