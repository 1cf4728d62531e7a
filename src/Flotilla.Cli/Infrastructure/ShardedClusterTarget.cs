using Flotilla.Server.Cluster;

namespace Flotilla.Cli.Infrastructure;

/// <summary>Reads a <c>--cluster FILE</c> that must describe a sharded store (the <c>cluster.json</c> of
/// <c>flotilla cluster start --groups G</c>): a missing file, bad JSON or another kind is exit 4 with one line.</summary>
public static class ShardedClusterTarget
{
    public static ShardedClusterFile Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"cluster file not found: {path}", ExitCodes.BadInput);
        try
        {
            return ShardedClusterFile.Load(path);
        }
        catch (InvalidDataException e)
        {
            throw new CliException(e.Message, ExitCodes.BadInput, e);
        }
    }

    /// <summary>True when <paramref name="text"/> (a --cluster value) is the path of a sharded cluster file.</summary>
    public static bool IsSharded(string? text)
    {
        if (text is null || !File.Exists(text)) return false;
        try
        {
            return new FileInfo(text).Length < 1 << 20 && ShardedClusterFile.KindOf(File.ReadAllText(text)) == ShardedClusterFile.ShardedKind;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
