using System.Net;

namespace KvnDb.FaultTests.Network;

/// <summary>
/// One simulated host: a network namespace with an <c>eth0</c> whose other end is a port of the lab's
/// bridge. Cutting it drops its frames on the bridge, both ways, silently: no RST, no ICMP, exactly
/// what a pulled cable or a dead switch port looks like to both ends.
/// </summary>
public sealed class NetHost
{
    internal NetHost(NetworkLab lab, string role, string namespaceName, string bridgePort, IPAddress address)
    {
        Lab = lab;
        Role = role;
        NamespaceName = namespaceName;
        BridgePort = bridgePort;
        Address = address;
    }

    public NetworkLab Lab { get; }

    /// <summary>Short name given by the test (router, node1, client, ...).</summary>
    public string Role { get; }

    /// <summary>The namespace's name (unique to this test run).</summary>
    public string NamespaceName { get; }

    /// <summary>The host's end of the link, as named on the bridge (what cut rules match).</summary>
    public string BridgePort { get; }

    public IPAddress Address { get; }

    public bool IsCut { get; internal set; }

    public Task CutAsync() => Lab.CutAsync(this);

    public Task HealAsync() => Lab.HealAsync(this);

    /// <summary>Starts <c>dotnet <paramref name="assembly"/> <paramref name="arguments"/></c> on this host.</summary>
    public LabProcess Start(string name, string assembly, IEnumerable<string> arguments) => Lab.Start(this, name, assembly, arguments);

    public override string ToString() => $"{Role} ({Address}, netns {NamespaceName})";
}
