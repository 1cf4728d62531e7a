using System.Buffers.Binary;
using CsCheck;
using Flotilla.Transport.Grpc.Tcp;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>
/// The framed-TCP decoder against bytes from nowhere: whatever a socket delivers, reading either yields frames,
/// ends cleanly, or throws one of the two errors that close the connection, and its allocations are bounded by the
/// frame limit, never by the length a frame declares.
/// </summary>
public sealed class FrameDecoderFuzzTests
{
    private const int Cap = 128 * 1024; // above the staging chunk, so the pooled staging path is exercised

    /// <summary>Pure noise, or a plausible frame (a prefix near or over the cap, any kind, any method length)
    /// followed by fewer, as many or more bytes than it declares.</summary>
    private static readonly Gen<byte[]> Input = Gen.OneOf(
        Gen.Byte.Array[0, 64],
        Gen.Select(Gen.OneOf(Gen.UInt[0, 64], Gen.UInt[Cap - 64, Cap + 64], Gen.UInt), Gen.Byte[0, 6], Gen.UShort,
            Gen.Int[0, 3 * Cap / 2], Gen.Byte.Array[0, 32], (length, kind, methodBytes, actual, tail) =>
            {
                var bytes = new byte[Frame.PrefixBytes + Frame.HeaderBytes + actual + tail.Length];
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, length);
                bytes[4] = kind;
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(17), methodBytes);
                tail.CopyTo(bytes.AsSpan(bytes.Length - tail.Length));
                return bytes;
            }));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RandomBytesNeverCrashTheReaderNorAllocateBeyondTheCap(bool closeOnOversized)
    {
        Input.Sample(bytes =>
        {
            using var input = new MemoryStream(bytes);
            var prefix = new byte[Frame.PrefixBytes];
            try
            {
                while (true)
                {
                    var before = GC.GetAllocatedBytesForCurrentThread();
                    var frame = Frame.Read(input, prefix, Cap, closeOnOversized);
                    var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    // The exact body plus, at worst, a cold pool's staging buffers (each at most twice the previous).
                    Assert.True(allocated <= 4L * Cap + 16 * 1024, $"one read allocated {allocated} bytes; the cap is {Cap}");
                    if (frame is null) break;
                    Assert.True(frame.Value.IsOversized ? !closeOnOversized : frame.Value.Payload.Length <= Cap);
                }
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                // What a connection may die of: the listener closes it, nothing else.
            }
        }, iter: 4000, threads: 1);
    }
}
