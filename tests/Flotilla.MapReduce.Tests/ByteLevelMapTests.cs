using System.Text;
using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Tests.Support;

namespace Flotilla.MapReduce.Tests;

/// <summary>The byte-level combining map (IUtf8MapApp, Utf8KeyTable) must give what the string map gives.</summary>
public sealed class ByteLevelMapTests
{
    private static readonly string[] TrickyAscii =
    [
        "", "\n", "\n\n\r\n", "a", "word", " lead", "trail ", "x\n\ny", "It's 2026: fish-and-chips\r\nand_more\tTABS",
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", // longer than a hash step of 8 bytes
        "12345 !@#$%^&*()[]{}~` 67890", "aaaaaaaa aaaaaaaa aaaaaaaaa aaaaaaa", "Z@z[a`A{",
    ];

    [Fact]
    public void WordCountTryMapEmitsTheStringMapsWordsOnAscii()
    {
        var app = new WordCountApp();
        foreach (var text in TrickyAscii.Append(File.ReadAllText(TestData.Books[0])))
        {
            var fromBytes = new List<KeyValue>();
            Assert.True(app.TryMap("f", Encoding.ASCII.GetBytes(text), (key, value) => fromBytes.Add(new KeyValue(Encoding.UTF8.GetString(key), value))));
            Assert.Equal(app.Map("f", text).ToList(), fromBytes);
        }
    }

    [Fact]
    public void IndexerTryMapEmitsTheStringMapsWordsOnAscii()
    {
        var app = new IndexerApp();
        foreach (var text in TrickyAscii.Append(File.ReadAllText(TestData.Books[0])))
        {
            var fromBytes = new List<KeyValue>();
            Assert.True(app.TryMap("doc", Encoding.ASCII.GetBytes(text), (key, value) => fromBytes.Add(new KeyValue(Encoding.UTF8.GetString(key), value))));
            Assert.Equal(app.Map("doc", text).OrderBy(kv => kv.Key, StringComparer.Ordinal), fromBytes.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
        Assert.False(app.TryMap("doc", Encoding.UTF8.GetBytes("naïve"), (_, _) => Assert.Fail("emitted")));
    }

    [Fact]
    public void IndexerCombinesOnlyOneDocumentsValues()
    {
        var app = new IndexerApp();
        Assert.Equal("a.txt", app.Combine("w", ["a.txt", "a.txt"]));
        Assert.Throws<InvalidOperationException>(() => app.Combine("w", ["a.txt", "b.txt"]));
    }

    [Theory]
    [InlineData("naïve fish")]
    [InlineData("\uFEFFhello")] // a byte order mark: File.ReadAllText drops it
    [InlineData("caf\u00e9")]
    public void WordCountTryMapDeclinesAnythingNotAsciiWithoutEmitting(string text)
    {
        var emitted = 0;
        Assert.False(new WordCountApp().TryMap("f", Encoding.UTF8.GetBytes(text), (_, _) => emitted++));
        Assert.Equal(0, emitted);
    }

    public static TheoryData<string, byte[]> Inputs() => new()
    {
        { "ascii book", File.ReadAllBytes(TestData.Books[0]) },
        { "ascii tricky", Encoding.ASCII.GetBytes(string.Join("\n", TrickyAscii)) },
        { "non-ascii", Encoding.UTF8.GetBytes("naïve über cat naïve Ωmega cat\ncat") },
        { "utf-8 bom", [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("the cat the hat")] },
        { "utf-16 bom", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("the cat the hat")] },
        { "utf-16 big-endian bom", [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes("the cat the hat")] },
        { "utf-32 bom", [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes("the cat the hat")] },
        { "invalid utf-8", [(byte)'a', 0xFF, (byte)'b', 0xC3, (byte)' ', 0xE2, 0x82, (byte)'c', 0xC3] },
        { "empty", [] },
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void InputTextDecodesBytesAsReadAllTextDoes(string label, byte[] contents)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, contents);
            Assert.True(File.ReadAllText(path) == InputText.Decode(contents), label);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void MapOnBytesGivesTheSamePartitionsAsMapOnTheDecodedText(string label, byte[] contents)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, contents);
            var text = File.ReadAllText(path); // what the worker used to map
            foreach (IMapReduceApp app in new IMapReduceApp[] { new WordCountApp(), new IndexerApp() })
            foreach (var combine in new[] { true, false })
            {
                var partition = Partitioners.Create(Partitioners.Hash, app);
                var fromText = MapTaskRunner.Run(app, "f", text, 3, partition, combine);
                var fromBytes = MapTaskRunner.Run(app, "f", contents, 3, partition, combine);
                Assert.True(fromText.RecordsOut == fromBytes.RecordsOut, $"{label}, {app.GetType().Name}, combine {combine}");
                for (var r = 0; r < 3; r++) Assert.Equal(fromText.Partitions[r], fromBytes.Partitions[r]);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void KeyTableKeepsEveryKeyAcrossGrowthAndHashCollisionsOfItsBuckets()
    {
        var table = new Utf8KeyTable();
        var keys = Enumerable.Range(0, 50_000).Select(i => $"k{i}" + new string('x', i % 17)).ToList();
        var indexes = keys.Select(k => table.IndexOf(Encoding.UTF8.GetBytes(k))).ToList();
        Assert.Equal(keys.Count, table.Count);
        Assert.Equal(Enumerable.Range(0, keys.Count), indexes);
        for (var i = 0; i < keys.Count; i += 997)
        {
            Assert.Equal(i, table.IndexOf(Encoding.UTF8.GetBytes(keys[i])));
            Assert.Equal(keys[i], table.Key(i));
        }
        Assert.Equal(keys.Count, table.Count);
        Assert.Equal(keys.Count, table.IndexOf([])); // the empty key is a key too
    }

    [Fact]
    public void KeyTableKeepsPendingValuesInTheOrderTheyCame()
    {
        var table = new Utf8KeyTable();
        var index = table.IndexOf("w"u8);
        string[] added = ["1", "1", "7", "1", "1", "1", "x", "x"];
        for (var i = 0; i < added.Length; i++) Assert.Equal(i + 1, table.AddValue(index, added[i]));
        var values = new List<string> { "stale" };
        table.CopyValues(index, values);
        Assert.Equal(added, values);
        Assert.Null(table.SingleValue(index));

        table.ReplaceValues(index, "8");
        Assert.Equal("8", table.SingleValue(index));
        Assert.Equal(2, table.AddValue(index, "1"));
        table.CopyValues(index, values);
        Assert.Equal(["8", "1"], values);
    }

    [Fact]
    public void CombinedByteMapOfAHotKeyCountsEveryOccurrence()
    {
        var app = new WordCountApp();
        var text = string.Join(' ', Enumerable.Repeat("the cat", 1000)) + " dog";
        var output = MapTaskRunner.Run(app, "f", Encoding.ASCII.GetBytes(text), 1, (_, _) => 0, combine: true);
        Assert.Equal([new KeyValue("cat", "1000"), new KeyValue("dog", "1"), new KeyValue("the", "1000")], output.Partitions[0]);
    }
}
