namespace Flotilla.Linearizability.Reporting;

/// <summary>An operation as the reports show it: model-independent (the model has already described it).</summary>
public sealed record OperationView(int Index, int ClientId, long CallTime, long? ReturnTime, string Description, string? Key);
