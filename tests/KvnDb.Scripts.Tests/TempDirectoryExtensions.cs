namespace KvnDb.Scripts.Tests;

/// <summary>The script tests' use of a temp folder: a compiled-script cache inside it.</summary>
internal static class TempDirectoryExtensions
{
    extension(TempDirectory temp)
    {
        /// <summary>A cache folder of the test's own (not created: the host creates it when it stores a script).</summary>
        public string Cache => temp.PathOf("cache");
    }
}
