namespace Flotilla.Wal.Tests.Support;

public static class WalAssert
{
    public static void Recovered(ReferenceLog expected, WalRecovery recovery) =>
        Assert.Equal(expected.Describe(), ReferenceLog.From(recovery).Describe());

    public static byte[] Bytes(int seed, int length)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
