using System.Reflection;
using JasperFx.CodeGeneration.Frames;
using JasperFx.CodeGeneration.Model;
using JasperFx.Core.Reflection;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http.CodeGen;

namespace Runs.Host.Runs.Shared;

/// <summary>
/// Makes an endpoint a pure function — <c>(body or query, Run run, …) → answer</c> — by supplying four kinds of
/// parameter as Wolverine builds each chain, with the frames that produce them; a refusal is answered and the
/// handler stops, so endpoint bodies neither check their input nor look up what their route names (the live log
/// stream and the output upload look their run up again themselves, as they must hold no session while they run):
/// <list type="bullet">
/// <item>a parameter named <c>body</c> (any write): read and validated by <see cref="RunWrites.ReadBodyAsync{T}"/>,
/// or by the endpoint's own <c>ReadBodyAsync(HttpContext)</c> for bodies that are not only JSON; a refusal is
/// answered and the handler stops. Its type becomes the chain's request type, so OpenAPI describes it.</item>
/// <item>a parameter named <c>query</c> (any read) of a type that reads itself from the query string
/// (<see cref="IQueryRequest{TSelf}"/>): 400 naming the parameter when it cannot.</item>
/// <item>a <see cref="Run"/>: in a write, loaded for writing by <see cref="RunWrites.LoadAsync"/> (If-Match, the
/// job in the route, Idempotency-Key), and after the endpoint <see cref="RunWrites.CompleteAsync"/> appends what
/// it decided; Wolverine's transaction commits and the answer is written after it. In a read, loaded by
/// <see cref="RunLookup.FindAsync(HttpContext, IQuerySession)"/>: 404 unless it is the route's job's.</item>
/// <item>a resource the route names (<see cref="IRouteResource{TSelf}"/>): loaded with the check that the caller
/// may see it, 404 otherwise.</item>
/// </list>
/// A <c>Validate</c> or <c>Before</c> method beside the endpoint that asks for one of these gets the same one.
/// This is the part of <c>WolverineFx.Http.Marten</c>'s <c>[WriteAggregate]</c> this service needs; that
/// package does not restore here.
/// </summary>
public sealed class RunPipeline : IParameterStrategy
{
    public const string BodyParameter = "body";
    public const string QueryParameter = "query";

    /// <summary>Wolverine asks for every parameter as it builds a chain; this answers for <c>body</c>, <c>query</c>, <see cref="Run"/> and route resources.</summary>
    public bool TryMatch(HttpChain chain, IServiceContainer container, ParameterInfo parameter, out Variable? variable)
    {
        variable = null;
        if (chain.Middleware.OfType<IMakes>().Select(f => f.Made).FirstOrDefault(v => v.VariableType == parameter.ParameterType) is { } made)
        {
            // The endpoint and a Validate or Before method beside it both ask: it is read or loaded once.
            variable = made;
        }
        else if (parameter.Name == BodyParameter && chain.HttpMethods.Any(m => m != "GET"))
        {
            var read = new ReadBody(chain.Method.HandlerType, parameter);
            chain.Middleware.Insert(0, read);
            if (read.Described is { } described)
            {
                Describe(chain, read, described);
            }
            variable = read.Body;
        }
        else if (parameter.Name == QueryParameter && parameter.ParameterType.Closes(typeof(IQueryRequest<>)))
        {
            var read = new ReadQuery(parameter.ParameterType);
            chain.Middleware.Insert(0, read);
            variable = read.Query;
        }
        else if (parameter.ParameterType.Closes(typeof(IRouteResource<>)))
        {
            var load = new LoadFromRoute(parameter.ParameterType, parameter.Name!, reading: chain.HttpMethods.All(m => m == "GET"),
                $"{parameter.ParameterType.FullNameInCode()}.LoadAsync");
            chain.Middleware.Add(load);
            variable = load.Resource;
        }
        else if (parameter.ParameterType == typeof(Run) && chain.HttpMethods.All(m => m == "GET"))
        {
            var load = new LoadFromRoute(typeof(Run), "run", reading: true, $"{typeof(RunLookup).FullNameInCode()}.{nameof(RunLookup.FindAsync)}");
            chain.Middleware.Add(load);
            variable = load.Resource;
        }
        else if (parameter.ParameterType == typeof(Run))
        {
            var load = new LoadRunForWriting(chain);
            chain.Middleware.Add(load);
            chain.Postprocessors.Insert(0, new CompleteRunWrite(chain.Method.ReturnVariable!, load.Stream));
            variable = load.Run;
        }
        return variable is not null;
    }

    /// <summary>
    /// So that the OpenAPI document describes the body from the code. Wolverine keeps these setters internal
    /// (its own JSON reader sets them); ours answers 400/413/415 as the contract says, so it sets them itself.
    /// </summary>
    private static void Describe(HttpChain chain, ReadBody read, Type described)
    {
        Set(chain, nameof(HttpChain.RequestType), described);
        if (described == read.Body.VariableType)
        {
            Set(chain, "RequestBodyVariable", read.Body);
        }
        Set(chain, "RequestBodyIsOptional", read.Optional);
    }

    private static void Set(HttpChain chain, string property, object value) =>
        typeof(HttpChain).GetProperty(property, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)!
            .SetValue(chain, value);

    /// <summary>
    /// Reads the body: JSON through <see cref="RunWrites.ReadBodyAsync{T}"/>, or the endpoint's own
    /// <c>ReadBodyAsync(HttpContext)</c> for bodies that are not only JSON; answers a refusal and stops.
    /// </summary>
    private sealed class ReadBody : AsyncFrame, IMakes
    {
        private readonly string _reader;

        public ReadBody(Type endpoint, ParameterInfo body)
        {
            Body = new Variable(body.ParameterType, BodyParameter, this);
            // A nullable body parameter makes the body optional.
            Optional = new NullabilityInfoContext().Create(body).WriteState == NullabilityState.Nullable;
            var own = endpoint.GetMethod(nameof(RunWrites.ReadBodyAsync), BindingFlags.Public | BindingFlags.Static);
            _reader = own is not null
                ? $"{endpoint.FullNameInCode()}.{own.Name}(httpContext)"
                : $"{typeof(RunWrites).FullNameInCode()}.{nameof(RunWrites.ReadBodyAsync)}<{body.ParameterType.FullNameInCode()}>(httpContext, {(Optional ? "true" : "false")})";
            // A body the endpoint reads itself is described by the type its [Consumes] names, if it names one.
            var consumes = body.Member.GetCustomAttributes<ConsumesAttribute>().Select(c => ((Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata)c).RequestType).FirstOrDefault(t => t is not null);
            Described = own is null ? body.ParameterType : consumes;
        }

        public Variable Body { get; }

        public Variable Made => Body;

        public bool Optional { get; }

        /// <summary>The type the OpenAPI document gives the body, if any.</summary>
        public Type? Described { get; }

        public override void GenerateCode(GeneratedMethod method, ISourceWriter writer)
        {
            writer.Write($"var ({Body.Usage}, bodyRefusal) = await {_reader};");
            writer.Write("if (bodyRefusal != null) { await bodyRefusal.ExecuteAsync(httpContext); return; }");
            Next?.GenerateCode(method, writer);
        }
    }

    /// <summary>A frame of this pipeline's, and the parameter value it makes.</summary>
    private interface IMakes
    {
        Variable Made { get; }
    }

    /// <summary>Reads the query string into its type; answers a refusal and stops.</summary>
    private sealed class ReadQuery : AsyncFrame, IMakes
    {
        public ReadQuery(Type type) => Query = new Variable(type, QueryParameter, this);

        public Variable Query { get; }

        public Variable Made => Query;

        public override void GenerateCode(GeneratedMethod method, ISourceWriter writer)
        {
            writer.Write($"var ({Query.Usage}, queryRefusal) = {Query.VariableType.FullNameInCode()}.Read(httpContext.Request);");
            writer.Write("if (queryRefusal != null) { await queryRefusal.ExecuteAsync(httpContext); return; }");
            Next?.GenerateCode(method, writer);
        }
    }

    /// <summary>
    /// Loads what the route names with <paramref name="loader"/> (<c>(HttpContext, session) → (value, refusal)</c>);
    /// answers a refusal and stops.
    /// </summary>
    private sealed class LoadFromRoute : AsyncFrame, IMakes
    {
        private readonly bool _reading;
        private readonly string _loader;
        private Variable? _session;

        public LoadFromRoute(Type type, string name, bool reading, string loader)
        {
            _reading = reading;
            _loader = loader;
            Resource = new Variable(type, name, this);
        }

        public Variable Resource { get; }

        public Variable Made => Resource;

        public override IEnumerable<Variable> FindVariables(IMethodVariables chain)
        {
            // A write loads through the session it commits, so what it changes is what it read.
            _session = chain.FindVariable(_reading ? typeof(IQuerySession) : typeof(IDocumentSession));
            yield return _session;
        }

        public override void GenerateCode(GeneratedMethod method, ISourceWriter writer)
        {
            var refusal = $"{Resource.Usage}Refusal";
            writer.Write($"var ({Resource.Usage}, {refusal}) = await {_loader}(httpContext, {_session!.Usage});");
            writer.Write($"if ({refusal} != null) {{ await {refusal}.ExecuteAsync(httpContext); return; }}");
            Next?.GenerateCode(method, writer);
        }
    }

    /// <summary>Loads the run for writing; answers a refusal and stops.</summary>
    private sealed class LoadRunForWriting : AsyncFrame, IMakes
    {
        private readonly HttpChain _chain;
        private Variable? _body;
        private Variable? _session;

        public LoadRunForWriting(HttpChain chain)
        {
            _chain = chain;
            Stream = new Variable(typeof(IEventStream<Run>), "runStream", this);
            Run = new Variable(typeof(Run), "run", this);
        }

        public Variable Stream { get; }
        public Variable Run { get; }
        public Variable Made => Run;

        public override IEnumerable<Variable> FindVariables(IMethodVariables chain)
        {
            _session = chain.FindVariable(typeof(IDocumentSession));
            yield return _session;
            // The body, when there is one, is read first: an Idempotency-Key retry is matched by it.
            _body = _chain.Middleware.OfType<ReadBody>().FirstOrDefault()?.Body;
            if (_body is not null)
            {
                yield return _body;
            }
        }

        public override void GenerateCode(GeneratedMethod method, ISourceWriter writer)
        {
            writer.Write($"var ({Stream.Usage}, runRefusal) = await {typeof(RunWrites).FullNameInCode()}.{nameof(RunWrites.LoadAsync)}(httpContext, {_session!.Usage}, {(_body is null ? "null" : _body.Usage)}, httpContext.RequestAborted);");
            writer.Write("if (runRefusal != null) { await runRefusal.ExecuteAsync(httpContext); return; }");
            writer.Write($"var {Run.Usage} = {Stream.Usage}.Aggregate!;");
            Next?.GenerateCode(method, writer);
        }
    }

    /// <summary>Appends what the endpoint decided, before Wolverine's commit.</summary>
    private sealed class CompleteRunWrite(Variable answer, Variable stream) : AsyncFrame
    {
        private Variable? _session;

        public override IEnumerable<Variable> FindVariables(IMethodVariables chain)
        {
            _session = chain.FindVariable(typeof(IDocumentSession));
            yield return answer;
            yield return stream;
            yield return _session;
        }

        public override void GenerateCode(GeneratedMethod method, ISourceWriter writer)
        {
            writer.Write($"await {typeof(RunWrites).FullNameInCode()}.{nameof(RunWrites.CompleteAsync)}(httpContext, {answer.Usage}, {stream.Usage}, {_session!.Usage});");
            Next?.GenerateCode(method, writer);
        }
    }
}
