namespace Runs.Host.Tests.Harness;

// Each collection has its own host and database; collections run in parallel.

public sealed class WritingHost : RunsHost
{
    protected override string DatabaseSuffix => "writing";
}

[CollectionDefinition(Name)]
public sealed class WritingCollection : ICollectionFixture<WritingHost>
{
    public const string Name = "writing";
}

public sealed class AccessHost : RunsHost
{
    protected override string DatabaseSuffix => "access";
}

[CollectionDefinition(Name)]
public sealed class AccessCollection : ICollectionFixture<AccessHost>
{
    public const string Name = "access";
}
