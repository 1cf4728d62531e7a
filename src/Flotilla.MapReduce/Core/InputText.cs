using System.Text;

namespace Flotilla.MapReduce.Core;

/// <summary>An input file's bytes as the text <c>File.ReadAllText</c> would give: UTF-8 unless a byte order mark says otherwise.</summary>
internal static class InputText
{
    public static string Decode(byte[] contents)
    {
        // Without a byte order mark, ReadAllText decodes UTF-8: one call on the whole array, no StreamReader buffers.
        var span = contents.AsSpan();
        if (span.StartsWith(Encoding.UTF8.Preamble)) return Encoding.UTF8.GetString(span[Encoding.UTF8.Preamble.Length..]);
        if (!span.StartsWith(Encoding.Unicode.Preamble) && !span.StartsWith(Encoding.BigEndianUnicode.Preamble) &&
            !span.StartsWith(Encoding.UTF32.Preamble) && !span.StartsWith(new UTF32Encoding(bigEndian: true, byteOrderMark: true).Preamble))
            return Encoding.UTF8.GetString(span);
        using var reader = new StreamReader(new MemoryStream(contents, writable: false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}
