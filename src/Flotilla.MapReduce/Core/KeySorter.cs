using System.Runtime.InteropServices;
using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Core;

/// <summary>
/// Sorts records by key (ordinal), stably. Each record is represented by its key's first four UTF-16 code units packed
/// into one integer, so most comparisons are one integer comparison that touches no string (a map task's records are
/// scattered over the heap, and comparing their strings cost a cache miss each: on sort's 16 MiB map tasks, the
/// string sort was more time than the map itself); only equal prefixes compare the keys, then the record order.
/// </summary>
internal static class KeySorter
{
    public static void Sort(List<KeyValue> records)
    {
        if (records.Count < 2) return;
        var span = CollectionsMarshal.AsSpan(records);
        var order = new Slot[span.Length];
        for (var i = 0; i < span.Length; i++) order[i] = new Slot(Prefix(span[i].Key), i);
        var keys = new string[span.Length];
        for (var i = 0; i < span.Length; i++) keys[i] = span[i].Key;
        order.AsSpan().Sort(new SlotOrder(keys));
        var sorted = new KeyValue[span.Length];
        for (var i = 0; i < order.Length; i++) sorted[i] = span[order[i].Index];
        sorted.CopyTo(span);
    }

    /// <summary>
    /// The first four code units, big-endian, zero-padded. A shorter key pads with 0, which is at most any code unit,
    /// so a smaller prefix always means an ordinally smaller key; equal prefixes decide nothing.
    /// </summary>
    internal static ulong Prefix(string key)
    {
        ulong prefix = 0;
        for (var i = 0; i < 4; i++) prefix = (prefix << 16) | (i < key.Length ? key[i] : 0u);
        return prefix;
    }

    private readonly record struct Slot(ulong Prefix, int Index);

    private readonly struct SlotOrder(string[] keys) : IComparer<Slot>
    {
        public int Compare(Slot x, Slot y)
        {
            if (x.Prefix != y.Prefix) return x.Prefix < y.Prefix ? -1 : 1;
            var byKey = string.CompareOrdinal(keys[x.Index], keys[y.Index]);
            return byKey != 0 ? byKey : x.Index.CompareTo(y.Index);
        }
    }
}
