using System.Security.Cryptography;
using System.Text;
using Flotilla.Transport.Grpc;

namespace Flotilla.Server.Cluster;

/// <summary>
/// The secrets of a local cluster's directory: <c>cluster.secret</c> (what members prove to each other) and
/// <c>admin.token</c> (what Admin callers present), both mode 0600, made once and kept across restarts. Two files,
/// so whoever may run <c>cluster status</c> cannot also pose as a member.
/// </summary>
public static class ClusterSecrets
{
    public const string SecretFileName = "cluster.secret";
    public const string AdminTokenFileName = "admin.token";

    public static string SecretFile(string directory) => Path.Combine(directory, SecretFileName);

    public static string AdminTokenFile(string directory) => Path.Combine(directory, AdminTokenFileName);

    /// <summary>Makes the missing secret files; returns the admin token.</summary>
    public static string Prepare(string directory)
    {
        if (!File.Exists(SecretFile(directory))) Transport.Grpc.SecretFile.Write(SecretFile(directory), ClusterCredentials.NewSecretText());
        if (!File.Exists(AdminTokenFile(directory))) Transport.Grpc.SecretFile.Write(AdminTokenFile(directory), ClusterCredentials.NewSecretText());
        return Transport.Grpc.SecretFile.ReadText(AdminTokenFile(directory));
    }

    /// <summary>A stable id per cluster directory, so two local clusters never take each other's members.</summary>
    public static string ClusterIdFor(string directory) =>
        "local-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(directory))))[..12];
}
