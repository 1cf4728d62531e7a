namespace Flotilla.Cli.Infrastructure;

/// <summary>
/// Every exit code the <c>flotilla</c> command uses, in one place so scripts can rely on them.
/// Documented in docs/cli.md; keep the two in step.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The command ran and failed (an I/O error, a failed check, a failed test seed).</summary>
    public const int Failure = 1;
    /// <summary>The command line was wrong: unknown command or flag, missing or malformed value.</summary>
    public const int Usage = 2;
    /// <summary>A server or peer could not be reached in time (or was lost, e.g. an mr worker's coordinator).</summary>
    public const int Unavailable = 3;
    /// <summary>Input data (a file, a history, a log) is malformed or corrupt; also a cluster file that is missing,
    /// unreadable, malformed or of the wrong kind, for every command alike.</summary>
    public const int BadInput = 4;
    /// <summary>The command could not reach a verdict in time (a linearizability check that timed out).</summary>
    public const int Unknown = 5;
    /// <summary>kv get/put: the key does not exist (a put with --version other than 0 on an absent key).</summary>
    public const int KvNoKey = 10;
    /// <summary>kv put: the key is at another version; nothing was written.</summary>
    public const int KvVersion = 11;
    /// <summary>kv put: a retried put found another version; an earlier attempt may or may not have been applied.</summary>
    public const int KvMaybe = 12;
}
