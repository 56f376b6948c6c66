using System.Text;
using GenerativePaths.Cli;
using Xunit;

namespace GenerativePaths.Tests.Cli;

/// <summary>The .npy writer writes NumPy's own header and round-trips through the reader.</summary>
public sealed class NpyFileTests
{
    [Fact]
    public void HeaderIsWhatNumPyWrites()
    {
        string h = NpyFile.Header("<f4", [10, 64]);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 64), }", h);
        Assert.EndsWith("\n", h);
        Assert.Equal(0, (10 + h.Length) % 64);
        Assert.Equal("{'descr': '<i8', 'fortran_order': False, 'shape': (7,), }", NpyFile.Header("<i8", [7]).TrimEnd());
    }

    [Fact]
    public void Float32AndInt64RoundTrip()
    {
        string dir = CliHarness.TempDir();
        try
        {
            var values = Enumerable.Range(0, 3 * 2 * 4).Select(i => i * 0.25f - 1).ToArray();
            string f = Path.Combine(dir, "x.npy");
            NpyFile.WriteFloat32(f, values, [3, 2, 4]);
            var bytes = File.ReadAllBytes(f);
            Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, bytes[..8]);
            int headerLength = bytes[8] | bytes[9] << 8;
            Assert.Equal(0, (10 + headerLength) % 64);
            Assert.Equal(10 + headerLength + values.Length * 4, bytes.Length);
            Assert.Contains("'shape': (3, 2, 4)", Encoding.ASCII.GetString(bytes, 10, headerLength));
            var back = NpyFile.Read(f);
            Assert.Equal([3, 2, 4], back.Shape);
            Assert.Equal(values, back.Floats);
            Assert.Equal(3, back.Rows);
            Assert.Equal(8, back.RowLength);

            string l = Path.Combine(dir, "l.npy");
            long[] labels = [0, 5, -3, long.MaxValue];
            NpyFile.WriteInt64(l, labels, [4]);
            var lb = NpyFile.Read(l);
            Assert.Equal([4], lb.Shape);
            Assert.Equal(labels, lb.Longs);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void RejectsWhatIsNotNpy()
    {
        string dir = CliHarness.TempDir();
        try
        {
            string f = Path.Combine(dir, "bad.npy");
            File.WriteAllText(f, "hello");
            Assert.Throws<InvalidDataException>(() => NpyFile.Read(f));
            NpyFile.WriteFloat32(f, [1f, 2f, 3f, 4f], [2, 2]);
            var bytes = File.ReadAllBytes(f);
            File.WriteAllBytes(f, bytes[..^3]);
            Assert.Throws<InvalidDataException>(() => NpyFile.Read(f));
            Assert.Throws<ArgumentException>(() => NpyFile.WriteFloat32(f, [1f, 2f], [3]));
        }
        finally { Directory.Delete(dir, true); }
    }
}
