using FASTER.core;

namespace KvnDb.Node.Storage;

/// <summary>The checkpoint manager's device factory, with every device it hands out watched for failed writes (<see cref="WatchedDevice"/>).</summary>
internal sealed class WatchedDeviceFactory(INamedDeviceFactory inner, Action<string, uint> onWriteFailed) : INamedDeviceFactory
{
    public void Initialize(string baseName) => inner.Initialize(baseName);

    public IDevice Get(FileDescriptor fileInfo) => new WatchedDevice(inner.Get(fileInfo), onWriteFailed);

    public void Delete(FileDescriptor fileInfo) => inner.Delete(fileInfo);

    public IEnumerable<FileDescriptor> ListContents(string path) => inner.ListContents(path);
}
