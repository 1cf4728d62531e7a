namespace Flotilla.Kv.Storage;

/// <summary>
/// The server's disk is full. Servers answer RESOURCE_EXHAUSTED with this message. When <see cref="OutcomeKnown"/>
/// the request was refused before it changed anything (a put was not applied); otherwise the disk filled while the
/// put was being made durable, and it may or may not be applied (it was never acknowledged).
/// </summary>
public sealed class KvDiskFullException(string path, bool outcomeKnown)
    : IOException($"disk full ({path}): {(outcomeKnown ? NotAppliedText : OutcomeUnknownText)}")
{
    public const string NotAppliedText = "not applied; retry once space is freed";

    /// <summary>Clients match this to count the put as possibly applied.</summary>
    public const string OutcomeUnknownText = "the put may or may not have been applied";

    public string Path { get; } = path;

    public bool OutcomeKnown { get; } = outcomeKnown;
}

/// <summary>The server's storage failed in a way it cannot recover from while running (an fsync failed, so the
/// kernel may have dropped written pages): every request fails until the server is restarted.</summary>
public sealed class KvStorageFailedException(string path, Exception cause)
    : IOException($"storage failed ({path}): {cause.Message}; restart the server", cause);
