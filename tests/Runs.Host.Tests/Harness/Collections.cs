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

/// <summary>A host with tiny abuse limits, so limits can be hit without flooding.</summary>
public sealed class LimitsHost : RunsHost
{
    protected override string DatabaseSuffix => "limits";

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Runs:Limits:RequestsPerSecond", "1");
        builder.UseSetting("Runs:Limits:Burst", "3");
        builder.UseSetting("Runs:Limits:MaxQueryStringLength", "300");
        builder.UseSetting("Runs:Limits:MaxRequestHeaderBytes", "4096");
    }
}

[CollectionDefinition(Name)]
public sealed class LimitsCollection : ICollectionFixture<LimitsHost>
{
    public const string Name = "limits";
}
