using JasperFx;
using Runs.Host;
using Runs.Host.Dashboard;
using Runs.Host.Runs.Logs;
using Runs.Projections.Storage;
using OpenTelemetry.Metrics;
using Wolverine.Marten;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // appsettings*.json sit beside the assembly, wherever the host is started from (`dotnet run --project`).
    ContentRootPath = AppContext.BaseDirectory,
});
DevelopmentKeys.EnsureSecretKey(builder);
DevelopmentKeys.EnsureCheckpointKey(builder);

// Validation messages name fields the way clients spell them.
FluentValidation.ValidatorOptions.Global.DisplayNameResolver = (_, member, _) =>
    member is null ? null : System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(member.Name);

if (builder.Configuration.GetConnectionString("Runs") is not { Length: > 0 } connectionString)
{
    Console.Error.WriteLine("error: ConnectionStrings:Runs is not set. Use ./run.sh (it starts a local PostgreSQL) or set ConnectionStrings__Runs.");
    return 1;
}

builder.Services.AddOptions<RunsOptions>()
    .Bind(builder.Configuration.GetSection(RunsOptions.Section));
builder.Services.AddSingleton<IValidateOptions<RunsOptions>, RunsOptionsValidation>();
builder.Services.AddSingleton(TimeProvider.System);

var applySchema = builder.Configuration.GetValue($"{RunsOptions.Section}:Database:ApplySchemaOnStart", new DatabaseOptions().ApplySchemaOnStart);

// Marten: the event store and its projections, and the host's own documents; configured here and in RunsStore only.
var marten = builder.Services.AddMarten(services =>
    {
        var options = new StoreOptions();
        RunsStore.Configure(options, connectionString,
            builder.Configuration.GetValue($"{RunsOptions.Section}:Telemetry:MaxSamplesPerRun", new TelemetryOptions().MaxSamplesPerRun),
            services.GetRequiredService<TimeProvider>());
        options.Schema.For<ApiToken>().UniqueIndex(t => t.Hash);
        options.Schema.For<IdempotentAnswer>();
        options.Schema.For<WebhookEndpoint>().UseOptimisticConcurrency(true).Index(e => e.OwnerTokenId!);
        options.Schema.For<WebhookDelivery>().UseOptimisticConcurrency(true).Index(d => d.EndpointId).Index(d => d.Run);
        options.Listeners.Add(new RunChangeNotices(services.GetRequiredService<RunChanges>()));
        // Without the migration at start, nor one on a document type's first use: db-apply made the schema.
        options.AutoCreateSchemaObjects = applySchema ? AutoCreate.CreateOrUpdate : AutoCreate.None;
        return options;
    })
    .UseLightweightSessions()
    .IntegrateWithWolverine(TerminalNotices.Forward)
    .InitializeWith<StoredStatusNames>();
if (applySchema)
{
    marten.ApplyAllDatabaseChangesOnStartup();
}

// Wolverine: commands, messaging and the durable outbox, in the same PostgreSQL; several hosts share them.
var durability = builder.Configuration.GetSection($"{RunsOptions.Section}:Durability").Get<DurabilityOptions>() ?? new DurabilityOptions();
builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = durability.ShutdownTimeout);
builder.Host.UseWolverine(options =>
{
    durability.ApplyTo(options.Durability);
    options.AutoBuildMessageStorageOnStartup = applySchema ? AutoCreate.CreateOrUpdate : AutoCreate.None;
    options.Policies.AutoApplyTransactions();
    options.Policies.UseDurableLocalQueues();
    options.UseWebhookQueues(builder.Configuration);
    // A database that does not answer (restarting, failing over, out of connections) is an outage, not a bad
    // message: a delivery waits it out — in memory first, then rescheduled — and never goes to the dead letters.
    options.Policies.OnException(ClientFaults.IsUnavailable, "the database does not answer")
        .RetryWithCooldown(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2),
            TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(15))
        .Then.ScheduleRetryIndefinitely(TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));
});
// Pre-generated code when the build has it (-p:RunsPregenerate=true, docs/operations.md; ./test.sh builds so),
// compiled at start otherwise — in Development too, so the tests run the code production runs and spare the
// compile in each host they start. Other builds leave the generated files out, so they are never stale.
// `codegen write` writes into the project, not beside the assembly.
builder.Services.CritterStackDefaults(critter =>
{
    critter.AutoResolveProjectRoot = true;
    critter.Development.GeneratedCodeMode = TypeLoadMode.Auto;
    critter.Production.GeneratedCodeMode = TypeLoadMode.Auto;
});

// HTTP: snake_case JSON, RFC 3339 times, problem+json for every error.
builder.Services.ConfigureHttpJsonOptions(json =>
{
    json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
    // "0" is not the number 0: wrong types answer 400.
    json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
    json.SerializerOptions.DictionaryKeyPolicy = null;
    json.SerializerOptions.Converters.Add(new Rfc3339Converter());
});
// Free-form JSON a client asks the ledger to store is checked as it is read, on every route.
builder.Services.AddOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>().Configure<IOptions<RunsOptions>>((json, runs) =>
    json.SerializerOptions.Converters.Add(new StoredJsonConverter(runs.Value.Limits.MaxJsonDepth)));
builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = ProblemDefaults.FillIn);
builder.Services.AddExceptionHandler<ClientFaults>();
builder.Services.AddWolverineHttp();
builder.Services.AddOpenApi(options =>
{
    OpenApiProblems.Describe(options);
    OpenApiLimits.Describe(options);
    OpenApiTimes.Describe(options);
    ApiReference.Describe(options);
    WebhookLimits.Describe(options);
    QueryParameters.Describe(options);
});
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.RateLimiting", "Wolverine", "Marten", "Npgsql")
    .AddPrometheusExporter())
    .WithRunsTracing(builder.Configuration);
builder.Services.AddHealthChecks()
    .AddCheck<DatabaseHealth>("database", tags: ["ready"])
    .AddCheck<NodeHealth>("node", tags: ["ready"]);
builder.Services.AddSingleton<JsonBody>();
// Request validators are stateless: built once, run by the one body reader (RunWrites.ReadBodyAsync).
builder.Services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Singleton, includeInternalTypes: true);
builder.Services.AddSingleton<RunSecrets>();
builder.Services.AddSingleton<Idempotency>();
builder.Services.AddSingleton<Runs.Host.Retention.RetentionPolicy>();
builder.Services.AddSingleton<Runs.Host.Retention.RetentionSweep>();
builder.Services.AddHostedService<Runs.Host.Retention.RetentionSweeper>();
// Reads (logs, files, listings) and LISTEN.
// Made by the container, so a command that disposes its host (each of ours does) closes their connections.
var tokenPoolSize = builder.Configuration.GetValue($"{RunsOptions.Section}:Database:TokenPoolSize", new DatabaseOptions().TokenPoolSize);
builder.Services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(ConnectionSettings.For(connectionString).ConnectionString));
builder.Services.AddSingleton(_ => TokenDatabase.Create(connectionString, tokenPoolSize));
builder.Services.AddSingleton<TokenLookup>();
builder.Services.AddSingleton<RunChanges>();
builder.Services.AddSingleton<GroupCommit>();
builder.Services.AddHostedService<IdempotencyCleanup>();
builder.Services.AddSingleton<Runs.Host.Ledger.CheckpointKeys>();
builder.Services.AddSingleton<Runs.Host.Ledger.Checkpoints>();
builder.Services.AddHostedService<Runs.Host.Ledger.CheckpointSchedule>();
builder.Services.AddSingleton<RunChangeFeed>();
builder.Services.AddWebhookDelivery(builder.Configuration, builder.Environment);
builder.Services.AddHostedService(services => services.GetRequiredService<RunChangeFeed>());

// Auth: every /v1 route needs a bearer token; limits keep one client from starving the others.
builder.Services.AddAuthentication(BearerTokens.SchemeName)
    .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, BearerTokens>(BearerTokens.SchemeName, null);
builder.Services.AddAuthorizationBuilder()
    .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
    .AddScopePolicies();
builder.AddAbuseLimits();

var app = builder.Build();

// Settings the service cannot run with are refused here, for the service and every command alike, in a line that
// names them: the pipeline below resolves them (every command, help included, builds it), where a failure is a
// stack trace.
try
{
    _ = app.Services.GetRequiredService<IOptions<RunsOptions>>().Value;
}
catch (OptionsValidationException invalid)
{
    Console.Error.WriteLine($"error: {string.Join(" ", invalid.Failures)}");
    return 1;
}

app.UseHeadAsGet();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAbuseLimits();
app.UseContentTypeCheck();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseQueryTextCheck();
app.UseRequestTimeouts();

app.MapHealthEndpoints();
app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
app.MapOpenApi().AllowAnonymous();
app.MapScalarApiReference("/docs", ApiReference.Page).AllowAnonymous();
app.MapWolverineEndpoints(http =>
{
    http.AddParameterHandlingStrategy<RunPipeline>();
    http.AddMiddleware(typeof(EventMetadata), chain => chain.IsWrite() && !chain.CommitsInGroups());
});
// The browser dashboard: pages need no token, the /v1 calls they make do.
app.MapDashboard();

// JasperFx's command line (run, db-apply, projections, tokens, …), with `<command> --help` and quiet discovery.
return await CommandLine.RunAsync(app, args);

public partial class Program;
