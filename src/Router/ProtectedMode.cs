using System.Net;

namespace KvnDb.Router;

/// <summary>
/// Redis's protected-mode idea: without any password the router only binds loopback, unless the
/// operator says <c>--insecure</c>. A node sees every write, so an open router is an open database.
/// </summary>
internal static class ProtectedMode
{
    public static void Check(RouterOptions options)
    {
        if (options.Insecure || options.Password.Length > 0 || options.EffectiveNodePassword.Length > 0 || IsLoopback(options.Host))
            return;
        throw new InvalidOperationException(
            $"refusing to listen on {options.Host} without a password: set -p/--password (and --node-password), or pass --insecure to accept anyone who can reach this address");
    }

    private static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
