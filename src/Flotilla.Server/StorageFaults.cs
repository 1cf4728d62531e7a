using System.Globalization;

namespace Flotilla.Server;

/// <summary>
/// Disk faults for fault-injection runs (<c>flotilla nemesis --faults disk</c>), read once from the environment when
/// the server starts and off unless set: <c>FLOTILLA_FAULT_FSYNC_DELAY_MS=N</c> makes every fsync take N ms longer (a
/// slow or overloaded disk), <c>FLOTILLA_FAULT_FSYNC_FAIL=P</c> makes P percent of fsyncs fail with an I/O error (a
/// failing disk; the WAL poisons itself on the first, docs/wal.md). Applied by <see cref="InstrumentedFileSystem"/>.
/// </summary>
public sealed record StorageFaults(int FsyncDelayMs, int FsyncFailPercent)
{
    public const string FsyncDelayVariable = "FLOTILLA_FAULT_FSYNC_DELAY_MS";
    public const string FsyncFailVariable = "FLOTILLA_FAULT_FSYNC_FAIL";

    public static StorageFaults None { get; } = new(0, 0);

    public bool Any => FsyncDelayMs > 0 || FsyncFailPercent > 0;

    public override string ToString() => $"{FsyncDelayVariable}={FsyncDelayMs} {FsyncFailVariable}={FsyncFailPercent}";

    /// <summary>The faults the environment asks for; a malformed value is ignored rather than failing a production start.</summary>
    public static StorageFaults FromEnvironment() => From(Environment.GetEnvironmentVariable);

    /// <summary>The faults <paramref name="variable"/> (a variable's value by name) asks for.</summary>
    public static StorageFaults From(Func<string, string?> variable) =>
        new(Read(variable(FsyncDelayVariable), 60_000), Read(variable(FsyncFailVariable), 100));

    private static int Read(string? text, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? Math.Clamp(value, 0, max) : 0;

    /// <summary>Runs before the real fsync: waits, or throws the injected failure.</summary>
    public async ValueTask BeforeFsyncAsync(string what, CancellationToken cancellationToken)
    {
        if (FsyncDelayMs > 0) await Task.Delay(FsyncDelayMs, cancellationToken);
        // Random.Shared: an I/O-edge fault for real processes only; nothing replays it.
        if (FsyncFailPercent > 0 && Random.Shared.Next(100) < FsyncFailPercent)
            throw new IOException($"injected fsync failure of {what} ({FsyncFailVariable}={FsyncFailPercent})");
    }
}
