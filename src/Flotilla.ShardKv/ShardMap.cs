using System.IO.Hashing;
using System.Text;

namespace Flotilla.ShardKv;

/// <summary>Which shard a key belongs to: XxHash64 of its UTF-8 bytes modulo the shard count. Fixed forever for a
/// store (clients, groups and the controller must agree), so it never depends on the process or platform.</summary>
public static class ShardMap
{
    public static int ShardOf(string key, int shardCount) =>
        (int)(XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key)) % (ulong)shardCount);
}
