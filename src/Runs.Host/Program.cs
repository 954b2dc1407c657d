using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.Resources;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Runs.Host;
using Runs.Host.Access;
using Runs.Host.Http;
using Runs.Host.Operations;
using Runs.Host.Runs;
using Runs.Host.Runs.Logs;
using Runs.Host.Runs.Triggering;
using Runs.Host.Webhooks;
using Runs.Projections;
using OpenTelemetry.Metrics;
using Scalar.AspNetCore;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Http;
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
    .Bind(builder.Configuration.GetSection(RunsOptions.Section))
    .ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<RunsOptions>, RunsOptionsValidation>();
builder.Services.AddSingleton(TimeProvider.System);

// Marten: the event store and its projections.
builder.Services.AddMarten(options =>
    {
        RunsStore.Configure(options, connectionString,
            builder.Configuration.GetValue($"{RunsOptions.Section}:Telemetry:MaxSamplesPerRun", new TelemetryOptions().MaxSamplesPerRun));
        options.Schema.For<ApiToken>().UniqueIndex(t => t.Hash);
        options.Schema.For<IdempotentAnswer>();
        options.Schema.For<WebhookEndpoint>();
        options.Schema.For<WebhookDelivery>().Index(d => d.EndpointId);
    })
    .UseLightweightSessions()
    .IntegrateWithWolverine()
    .ApplyAllDatabaseChangesOnStartup();

// Wolverine: commands, messaging and the durable outbox, in the same PostgreSQL.
builder.Host.UseWolverine(options =>
{
    options.Policies.AutoApplyTransactions();
    options.Policies.UseDurableLocalQueues();
    options.PublishMessage<DeliverWebhook>().ToLocalQueue("webhooks");
    options.Policies.OnException<WebhookDeadLettered>().MoveToErrorQueue();
    // Outside Development, pre-generated code when the build has it (docs/operations.md), compiled at start otherwise.
    options.CodeGeneration.TypeLoadMode = builder.Environment.IsDevelopment() ? TypeLoadMode.Dynamic : TypeLoadMode.Auto;
});
builder.Services.AddResourceSetupOnStartup();

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
    OpenApiBodies.Describe(options);
    OpenApiLimits.Describe(options);
    ApiReference.Describe(options);
});
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.RateLimiting", "Wolverine", "Marten", "Npgsql")
    .AddPrometheusExporter());
builder.Services.AddHealthChecks().AddCheck<DatabaseHealth>("database", tags: ["ready"]);
builder.Services.AddSingleton<JsonBody>();
builder.Services.AddSingleton<RunSecrets>();
builder.Services.AddSingleton<Idempotency>();
builder.Services.AddSingleton<Runs.Host.Retention.RetentionPolicy>();
builder.Services.AddSingleton<Runs.Host.Retention.RetentionSweep>();
builder.Services.AddHostedService<Runs.Host.Retention.RetentionSweeper>();
builder.Services.AddSingleton(Npgsql.NpgsqlDataSource.Create(connectionString));
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
    .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
builder.AddAbuseLimits();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAbuseLimits();
app.UseContentTypeCheck();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseRequestTimeouts();

app.MapHealthEndpoints();
app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
app.MapOpenApi().AllowAnonymous();
app.MapScalarApiReference("/docs", ApiReference.Page).AllowAnonymous();
app.MapWolverineEndpoints(http => http.AddMiddleware(typeof(EventMetadata), chain => chain.IsWrite()));

// JasperFx's command line (run, db-apply, projections, tokens, …), with `<command> --help` and quiet discovery.
return await CommandLine.RunAsync(app, args);

public partial class Program;
