namespace Flotilla.Linearizability.History;

/// <summary>A history file is not valid JSON or does not follow docs/history-format.md. The message names the
/// offending operation and field, so it can be shown to the user as is.</summary>
public sealed class HistoryFormatException(string message, Exception? inner = null) : Exception(message, inner);
