using System.Net;
using System.Net.Sockets;

namespace KvnDb.Chaos;

/// <summary>Finds the router and node programs built beside this one (same configuration), in the repository.</summary>
internal static class Programs
{
    public static string Path(string projectFolder, string program)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        var framework = output.Name;
        var configuration = output.Parent!.Name;
        var root = output;
        while (root is not null && !File.Exists(System.IO.Path.Combine(root.FullName, "KvnDb.sln")))
            root = root.Parent;
        if (root is null)
            throw new InvalidOperationException("run kvndb-chaos from its build output inside the repository");
        var path = System.IO.Path.Combine(root.FullName, "src", projectFolder, "bin", configuration, framework, program);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{program} is not built at {path}");
    }
}

internal static class Ports
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
