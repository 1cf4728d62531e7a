using System.Text.Json;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Models;

namespace Flotilla.Linearizability.Reporting;

/// <summary>A model that can check a history given as JSON: what <c>flotilla check</c> dispatches on by the
/// history's <c>"model"</c> field.</summary>
public interface IHistoryModel
{
    string Name { get; }

    HistoryReport Check(JsonDocument history, CheckOptions options, CancellationToken cancellation);
}

/// <summary>Binds a model to its JSON codec.</summary>
public sealed class HistoryModel<TState, TInput, TOutput>(IHistoryCodec<TInput, TOutput> codec, IModel<TState, TInput, TOutput> model)
    : IHistoryModel where TOutput : class
{
    public string Name => codec.ModelName;

    public HistoryReport Check(JsonDocument history, CheckOptions options, CancellationToken cancellation)
    {
        var operations = HistoryJson.Read(codec, history);
        var result = LinearizabilityChecker.Check(model, operations, options, cancellation);
        return HistoryReport.Create(Name, model, operations, result);
    }
}
