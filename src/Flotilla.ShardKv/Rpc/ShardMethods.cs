namespace Flotilla.ShardKv.Rpc;

/// <summary>Method names on a node's transport: the controller's service <c>shardctl</c> and one service
/// <c>shardkv.&lt;gid&gt;</c> per replica group hosted on the node (next to that group's <c>raft.&lt;gid&gt;</c>).</summary>
public static class ShardMethods
{
    public const string ControllerService = "shardctl";
    public const string Query = ControllerService + "/query";
    /// <summary>Join/Leave/Move: the body is an encoded <see cref="Controller.ControllerCommand"/>.</summary>
    public const string Submit = ControllerService + "/submit";

    public static string GroupService(int gid) => $"shardkv.{gid}";
    public static string Get(int gid) => GroupService(gid) + "/get";
    public static string Put(int gid) => GroupService(gid) + "/put";
    public static string Pull(int gid) => GroupService(gid) + "/pull";
    public static string Delete(int gid) => GroupService(gid) + "/delete";
}
