using Flotilla.Runtime;
using Microsoft.Extensions.Logging;

namespace Flotilla.Simulation;

/// <summary>
/// The simulation's log: a bounded ring of lines stamped with virtual time and node. Cheap enough to leave on, and
/// printed with a failing scenario so the seed's story can be read without re-running it.
/// </summary>
internal sealed class SimLog(Simulator sim, int linesKept)
{
    private readonly Queue<string> _lines = new();

    public LogLevel MinimumLevel { get; set; } = LogLevel.Information;

    public void Write(NodeId? node, string message)
    {
        if (linesKept <= 0) return;
        if (_lines.Count >= linesKept) _lines.Dequeue();
        _lines.Enqueue($"[{sim.Now.TotalSeconds,12:0.000000}s] {(node is { } n ? n.ToString() : "sim")}: {message}");
    }

    public IReadOnlyList<string> Recent() => _lines.ToArray();

    public ILoggerFactory ForNode(NodeId node) => new Factory(this, node);

    private sealed class Factory(SimLog log, NodeId node) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new Logger(log, node, categoryName);
        public void AddProvider(ILoggerProvider provider) { }
        public void Dispose() { }
    }

    private sealed class Logger(SimLog log, NodeId node, string category) : ILogger
    {
        private readonly string _category = category[(category.LastIndexOf('.') + 1)..];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= log.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            log.Write(node, $"{_category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
        }
    }
}
