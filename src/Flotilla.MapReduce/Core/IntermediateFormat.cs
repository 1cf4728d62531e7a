using System.Text;
using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Core;

/// <summary>
/// The on-disk and on-wire form of one intermediate partition: records as (7-bit-length-prefixed UTF-8 key,
/// 7-bit-length-prefixed UTF-8 value), in key order. Compact and fast to parse, unlike JSON.
/// </summary>
public static class IntermediateFormat
{
    public static string FileName(int mapTask, int reduceTask) => $"mr-{mapTask}-{reduceTask}";

    public static void Write(Stream stream, IEnumerable<KeyValue> records)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        foreach (var record in records)
        {
            writer.Write(record.Key);
            writer.Write(record.Value);
        }
    }

    /// <summary>The records of <paramref name="stream"/> in order, decoded one at a time as they are consumed.</summary>
    public static IEnumerable<KeyValue> Read(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        while (stream.Position < stream.Length)
        {
            var key = reader.ReadString();
            yield return new KeyValue(key, reader.ReadString());
        }
    }

    /// <summary>Appends every record of <paramref name="stream"/> to <paramref name="into"/>; returns how many.</summary>
    public static long ReadAll(Stream stream, List<KeyValue> into)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        long count = 0;
        while (stream.Position < stream.Length)
        {
            var key = reader.ReadString();
            into.Add(new KeyValue(key, reader.ReadString()));
            count++;
        }
        return count;
    }
}
