using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Flotilla.Runtime;

namespace Flotilla.Transport.Grpc.Tcp;

/// <summary>
/// One frame of the framed-TCP peer protocol, little-endian:
/// <c>[u32 length of the rest][u8 kind][i64 id][i32 from][u16 method length][method UTF-8][payload]</c>.
/// Calls and their replies share an id, so many calls are in flight on one connection at once.
/// </summary>
internal readonly record struct Frame(FrameKind Kind, long Id, NodeId From, string Method, ReadOnlyMemory<byte> Payload, long OversizedBytes = 0)
{
    /// <summary>The frame exceeded the size limit: its header was read, its body skipped, its payload is empty.
    /// The receiver answers or drops it without tearing down the connection.</summary>
    public bool IsOversized => OversizedBytes > 0;

    public const int PrefixBytes = 4;
    public const int HeaderBytes = 1 + 8 + 4 + 2;

    public static byte[] Encode(FrameKind kind, long id, NodeId from, string method, ReadOnlySpan<byte> payload)
    {
        var methodBytes = Encoding.UTF8.GetByteCount(method);
        if (methodBytes > ushort.MaxValue) throw new ArgumentException("method name too long", nameof(method));
        var frame = new byte[PrefixBytes + HeaderBytes + methodBytes + payload.Length];
        var span = frame.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)(frame.Length - PrefixBytes));
        span[4] = (byte)kind;
        BinaryPrimitives.WriteInt64LittleEndian(span[5..], id);
        BinaryPrimitives.WriteInt32LittleEndian(span[13..], from.Value);
        BinaryPrimitives.WriteUInt16LittleEndian(span[17..], (ushort)methodBytes);
        Encoding.UTF8.GetBytes(method, span[19..]);
        payload.CopyTo(span[(19 + methodBytes)..]);
        return frame;
    }

    /// <summary>Reads the next frame; null when the peer closed the connection between frames. A frame larger
    /// than <paramref name="frameBytesMax"/> comes back <see cref="IsOversized"/> (body skipped, never buffered).
    /// A malformed frame throws <see cref="InvalidDataException"/>: the connection is then unusable and must be
    /// closed, but nothing else is harmed.</summary>
    public static async ValueTask<Frame?> ReadAsync(Stream input, byte[] prefix, int frameBytesMax, CancellationToken cancellationToken)
    {
        var got = await input.ReadAtLeastAsync(prefix.AsMemory(0, PrefixBytes), PrefixBytes, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got == 0) return null;
        var length = LengthOf(prefix, got);
        if (length > (uint)frameBytesMax)
        {
            var header = new byte[HeaderBytes];
            await input.ReadExactlyAsync(header, cancellationToken).ConfigureAwait(false);
            await SkipAsync(input, length - HeaderBytes, cancellationToken).ConfigureAwait(false);
            return Oversized(header, length);
        }
        var body = new byte[length];
        await input.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        return Parse(body);
    }

    /// <summary><see cref="ReadAsync"/> for a dedicated reader thread: blocks until a frame arrives. With
    /// <paramref name="closeOnOversized"/> (the listener, whose peers are untrusted) a frame over the limit throws
    /// <see cref="InvalidDataException"/> before its body is read, instead of being skipped.
    /// <para>Memory follows the bytes that actually arrived, never the length a frame declares: a large body is staged
    /// in pooled buffers as it comes in and copied into an array of its exact size (which the handler then owns) only
    /// once complete, so a peer that declares a big frame and stalls pins at most one pooled chunk.</para></summary>
    public static Frame? Read(Stream input, byte[] prefix, int frameBytesMax, bool closeOnOversized = false)
    {
        var got = input.ReadAtLeast(prefix.AsSpan(0, PrefixBytes), PrefixBytes, throwOnEndOfStream: false);
        if (got == 0) return null;
        var length = LengthOf(prefix, got);
        if (length > (uint)frameBytesMax)
        {
            if (closeOnOversized) throw new InvalidDataException($"frame of {length} bytes exceeds the limit of {frameBytesMax}");
            var header = new byte[HeaderBytes];
            input.ReadExactly(header);
            Skip(input, length - HeaderBytes);
            return Oversized(header, length);
        }
        return Parse(ReadBody(input, (int)length));
    }

    /// <summary>Bodies up to this are read straight into their own array; larger ones are staged (see <see cref="Read"/>).</summary>
    internal const int StagingChunkBytes = 64 * 1024;

    private static byte[] ReadBody(Stream input, int length)
    {
        if (length <= StagingChunkBytes)
        {
            var small = new byte[length];
            input.ReadExactly(small);
            return small;
        }
        var staged = ArrayPool<byte>.Shared.Rent(StagingChunkBytes);
        try
        {
            var filled = 0;
            while (filled < length)
            {
                if (filled == staged.Length)
                {
                    // Grow only once the current buffer is full of received bytes.
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(length, staged.Length * 2));
                    staged.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(staged);
                    staged = larger;
                }
                var n = input.Read(staged, filled, Math.Min(length, staged.Length) - filled);
                if (n == 0) throw new EndOfStreamException("connection closed inside a frame");
                filled += n;
            }
            return staged.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(staged);
        }
    }

    private static uint LengthOf(byte[] prefix, int got)
    {
        if (got < PrefixBytes) throw new EndOfStreamException("connection closed inside a frame");
        var length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        if (length < HeaderBytes) throw new InvalidDataException($"frame of {length} bytes is shorter than its header");
        return length;
    }

    private static Frame Oversized(byte[] header, uint length) =>
        new(KindOf(header[0]), BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(1)),
            new NodeId(BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(9))), "", ReadOnlyMemory<byte>.Empty, length);

    private static Frame Parse(byte[] body)
    {
        var kind = KindOf(body[0]);
        var methodBytes = BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(13));
        if (HeaderBytes + methodBytes > body.Length) throw new InvalidDataException("method name runs past the frame");
        string method;
        try { method = StrictUtf8.GetString(body, HeaderBytes, methodBytes); }
        catch (DecoderFallbackException e) { throw new InvalidDataException("method name is not UTF-8", e); }
        return new Frame(kind, BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(1)), new NodeId(BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(9))),
            method, body.AsMemory(HeaderBytes + methodBytes));
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static FrameKind KindOf(byte value) =>
        (FrameKind)value is FrameKind.Call or FrameKind.ReplyOk or FrameKind.ReplyFailed or FrameKind.Message or FrameKind.Cancel
            ? (FrameKind)value
            : throw new InvalidDataException($"unknown frame kind {value}");

    private static void Skip(Stream input, long count)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (count > 0)
            {
                var n = input.Read(scratch, 0, (int)Math.Min(count, scratch.Length));
                if (n == 0) throw new EndOfStreamException("connection closed inside a frame");
                count -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static async ValueTask SkipAsync(Stream input, long count, CancellationToken cancellationToken)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (count > 0)
            {
                var n = await input.ReadAsync(scratch.AsMemory(0, (int)Math.Min(count, scratch.Length)), cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new EndOfStreamException("connection closed inside a frame");
                count -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Longest method name, UTF-8 bytes.</summary>
    public const int MethodBytesMax = 1024;

    /// <summary>The largest frame a peer may send: a max-size payload plus header and the longest method name.</summary>
    public static int FrameBytesMax(int maxMessageBytes) => maxMessageBytes + HeaderBytes + MethodBytesMax;
}
