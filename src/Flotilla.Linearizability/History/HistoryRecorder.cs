using System.Text;
using Flotilla.Linearizability.Checking;

namespace Flotilla.Linearizability.History;

/// <summary>
/// Records a history as clients run: <c>var op = recorder.Begin(client, input); ... op.End(output);</c>.
/// Thread-safe. Timestamps come from the <see cref="TimeProvider"/> (pass the simulation's for virtual time) and are
/// stored as nanoseconds since the recorder was created, made strictly increasing in the order events are recorded
/// (a tie is moved 1 ns later). That matters in simulation, where a client can get a reply and send its next request at
/// the same virtual instant: equal times would count as concurrent and hide a stale read. An operation whose <see cref="RecordedOperation.End"/> is never
/// called is recorded as never returned (<c>"return": null</c>), which is what a crashed or abandoned client means.
/// </summary>
public sealed class HistoryRecorder<TInput, TOutput> where TOutput : class
{
    /// <summary>A limit, so a test that loops forever fails loudly instead of eating the machine's memory.</summary>
    public const int MaxOperations = 10_000_000;

    private readonly IHistoryCodec<TInput, TOutput> _codec;
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly Lock _lock = new();
    private readonly List<Slot> _slots = [];
    private long _lastNs = long.MinValue;

    public HistoryRecorder(IHistoryCodec<TInput, TOutput> codec, TimeProvider? time = null)
    {
        _codec = codec;
        _time = time ?? TimeProvider.System;
        _origin = _time.GetTimestamp();
    }

    public IHistoryCodec<TInput, TOutput> Codec => _codec;

    public int Count
    {
        get { lock (_lock) return _slots.Count; }
    }

    /// <summary>Records the call of an operation now; call <see cref="RecordedOperation.End"/> when it returns.</summary>
    public RecordedOperation Begin(int clientId, TInput input)
    {
        lock (_lock)
        {
            if (_slots.Count >= MaxOperations) throw new InvalidOperationException($"history is full ({MaxOperations} operations)");
            var slot = new Slot(clientId, input, Now());
            _slots.Add(slot);
            return new RecordedOperation(this, slot);
        }
    }

    /// <summary>The operations recorded so far, in call order; those not yet ended are pending (never returned).</summary>
    public IReadOnlyList<Operation<TInput, TOutput>> Operations
    {
        get
        {
            lock (_lock)
                return _slots.Select(s => new Operation<TInput, TOutput>(s.ClientId, s.Input, s.CallTime, s.Output, s.ReturnTime)).ToArray();
        }
    }

    public string ToJson(bool indented = false) => HistoryJson.Serialize(_codec, Operations, indented);

    /// <summary>Writes the history to <paramref name="path"/> (atomically: a temp file renamed into place).</summary>
    public void Save(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, ToJson(), new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Called under the lock, so the order of timestamps is the order of recording.</summary>
    private long Now()
    {
        var ticks = _time.GetTimestamp() - _origin;
        var ns = (long)((Int128)ticks * 1_000_000_000 / _time.TimestampFrequency);
        _lastNs = ns > _lastNs ? ns : _lastNs + 1;
        return _lastNs;
    }

    private void End(Slot slot, TOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        lock (_lock)
        {
            if (slot.ReturnTime is not null) throw new InvalidOperationException("operation already ended");
            slot.Output = output;
            slot.ReturnTime = Now();
        }
    }

    internal sealed class Slot(int clientId, TInput input, long callTime)
    {
        public int ClientId { get; } = clientId;
        public TInput Input { get; } = input;
        public long CallTime { get; } = callTime;
        public TOutput? Output { get; set; }
        public long? ReturnTime { get; set; }
    }

    /// <summary>The handle of one in-flight operation.</summary>
    public sealed class RecordedOperation
    {
        private readonly HistoryRecorder<TInput, TOutput> _recorder;
        private readonly Slot _slot;

        internal RecordedOperation(HistoryRecorder<TInput, TOutput> recorder, Slot slot)
        {
            _recorder = recorder;
            _slot = slot;
        }

        /// <summary>Records the return of the operation now, with what the client got back. At most once.</summary>
        public void End(TOutput output) => _recorder.End(_slot, output);
    }
}
