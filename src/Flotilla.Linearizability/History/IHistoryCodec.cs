using System.Text.Json;

namespace Flotilla.Linearizability.History;

/// <summary>How one model's inputs and outputs look in the JSON history format (docs/history-format.md).</summary>
public interface IHistoryCodec<TInput, TOutput> where TOutput : class
{
    /// <summary>The value of the history's <c>"model"</c> field, e.g. <c>versioned-kv</c>.</summary>
    string ModelName { get; }

    void WriteInput(Utf8JsonWriter writer, TInput input);

    void WriteOutput(Utf8JsonWriter writer, TOutput output);

    /// <summary>Parses an <c>"input"</c> object; throws <see cref="HistoryFormatException"/> if malformed.</summary>
    TInput ReadInput(JsonElement input);

    /// <summary>Parses a non-null <c>"output"</c> object; throws <see cref="HistoryFormatException"/> if malformed.</summary>
    TOutput ReadOutput(JsonElement output);
}
