using System.Net;
using System.Security.Cryptography;

namespace KvnDb.Router;

/// <summary>
/// Who may connect, checked before the router listens. Redis's protected mode: without a client
/// password the router binds only loopback unless the operator says <c>--insecure</c>. Nodes have a
/// credential of their own, since a node sees every write and answers reads: a client password must
/// never register one. With <c>-p</c> and no <c>--node-password</c>, only the router's embedded nodes
/// (given a random secret here) can join; with no password at all, nodes are as open as clients
/// (loopback only, unless <c>--insecure</c>).
/// </summary>
internal static class CredentialPolicy
{
    public static void Check(RouterOptions options)
    {
        if (options.NodePassword is { Length: > 0 } node && node == options.Password)
            throw new ArgumentException("--node-password must differ from --password: a client credential must not register a node");
        if (options.Insecure || options.Password.Length > 0 || IsLoopback(options.Host))
            return;
        throw new InvalidOperationException(
            $"refusing to listen on {options.Host} without a client password: set -p/--password (and --node-password for nodes), " +
            "or pass --insecure to accept anyone who can reach this address");
    }

    /// <summary>
    /// The secret nodes must present: <c>--node-password</c>; else, when clients need a password, a
    /// random one only the embedded nodes know (external nodes are refused); else none.
    /// </summary>
    public static string NodeSecret(RouterOptions options) =>
        options.NodePassword is { Length: > 0 } node ? node
        : options.Password.Length > 0 ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        : "";

    /// <summary>True when nodes outside the router's process can join (they know the node secret).</summary>
    public static bool AcceptsExternalNodes(RouterOptions options) => options.NodePassword is { Length: > 0 } || options.Password.Length == 0;

    private static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
