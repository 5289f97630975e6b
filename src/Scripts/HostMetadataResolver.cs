using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace KvnDb.Scripts;

/// <summary>
/// Resolves <c>#r</c> relative to the script's folder (the inner resolver), except that a reference to a
/// file named like a host assembly (<c>KvnDb.Client.dll</c>) resolves to the host's own copy.
/// </summary>
internal sealed class HostMetadataResolver(MetadataReferenceResolver inner) : MetadataReferenceResolver
{
    private readonly MetadataReferenceResolver _inner = inner;

    public override bool ResolveMissingAssemblies => _inner.ResolveMissingAssemblies;

    public override ImmutableArray<PortableExecutableReference> ResolveReference(string reference, string? baseFilePath, MetadataReferenceProperties properties)
    {
        if (!reference.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
        {
            var shared = HostReferences.FindShared(Path.GetFileName(reference));
            if (shared is not null)
                return [MetadataReference.CreateFromFile(shared.Location, properties)];
        }
        return _inner.ResolveReference(reference, baseFilePath, properties);
    }

    public override PortableExecutableReference? ResolveMissingAssembly(MetadataReference definition, AssemblyIdentity referenceIdentity) =>
        _inner.ResolveMissingAssembly(definition, referenceIdentity);

    public override bool Equals(object? other) => other is HostMetadataResolver resolver && resolver._inner.Equals(_inner);

    public override int GetHashCode() => _inner.GetHashCode();
}
