using Postern.Testing;

namespace Postern.Client.Tests;

[CollectionDefinition(Name)]
public sealed class AllauthSitesGroup : ICollectionFixture<AllauthSites>
{
    public const string Name = "allauth";
}
