namespace Flotilla.MapReduce;

/// <summary>What went wrong, so the CLI can print one line and pick an exit code.</summary>
public enum MapReduceError
{
    /// <summary>--app names neither a built-in app nor an existing assembly.</summary>
    UnknownApp,
    /// <summary>The app assembly cannot be loaded or holds no usable app class.</summary>
    BadAppAssembly,
    /// <summary>The app rejected its arguments.</summary>
    BadAppArguments,
    /// <summary>An input file is missing or unreadable.</summary>
    BadInput,
    /// <summary>The coordinator could not be reached.</summary>
    CoordinatorUnreachable,
    /// <summary>The job gave up (a task failed too many times).</summary>
    JobFailed,
}

/// <summary>An error a user can act on; the message is one readable sentence.</summary>
public sealed class MapReduceException(MapReduceError error, string message, Exception? inner = null) : Exception(message, inner)
{
    public MapReduceError Error { get; } = error;
}
