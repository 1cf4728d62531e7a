namespace Flotilla.Cli.Infrastructure;

/// <summary>An error the user can act on: printed as one line, with its own exit code, never with a stack trace.</summary>
public class CliException(string message, int exitCode = ExitCodes.Failure, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}

public static class CliErrors
{
    /// <summary>Prints an error as one readable line (plus the stack trace with --verbose) and picks the exit code.</summary>
    public static int Report(Exception e, bool verbose, TextWriter error)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerException!;
        var (code, message) = e switch
        {
            CliException cli => (cli.ExitCode, cli.Message),
            Flotilla.Server.Cluster.ClusterFileException file => (ExitCodes.BadInput, file.Message),
            OperationCanceledException => (ExitCodes.Failure, "cancelled"),
            FileNotFoundException f => (ExitCodes.BadInput, f.FileName is null ? f.Message : $"file not found: {f.FileName}"),
            DirectoryNotFoundException d => (ExitCodes.BadInput, d.Message),
            UnauthorizedAccessException u => (ExitCodes.BadInput, u.Message),
            IOException io => (ExitCodes.Failure, io.Message),
            _ => (ExitCodes.Failure, $"{e.GetType().Name}: {e.Message}"),
        };
        error.WriteLine($"flotilla: error: {OneLine(message)}");
        if (verbose) error.WriteLine(e.ToString());
        return code;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
