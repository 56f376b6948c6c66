using GenerativePaths.Cli;
using Xunit;
using static GenerativePaths.Tests.Cli.CliHarness;

namespace GenerativePaths.Tests.Cli;

/// <summary><c>gpaths generate --shard</c> and <c>gpaths merge</c>: the shards of a job, concatenated, are the job's one run, bit for bit.</summary>
public sealed class ShardTests
{
    // 300 samples cross the 256-row batch boundary; euler_a draws noise at every step; guidance 2 on cycling labels.
    private static string[] Job(string seed = "3") =>
        ["generate", "--model", ModelPath("gmm-denoiser.onnx"), "--steps", "6", "--sampler", "euler_a", "--seed", seed, "--count", "300", "--guidance", "2"];

    private static byte[] Data(string path) => File.ReadAllBytes(path);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void ConcatenatedShardsAreTheWholeRunBitForBit(int shards)
    {
        var dir = TempDir();
        try
        {
            string whole = Path.Combine(dir, "whole.npy"), wholeLabels = Path.Combine(dir, "whole-labels.npy");
            var (code, _, err) = Run([.. Job(), "--out", whole, "--labels-out", wholeLabels]);
            Assert.True(code == 0, err);
            var expected = NpyFile.Read(whole);
            var expectedLabels = NpyFile.Read(wholeLabels);

            var samples = new List<float>();
            var labels = new List<long>();
            var files = new List<string>();
            var labelFiles = new List<string>();
            for (int i = 0; i < shards; i++)
            {
                string x = Path.Combine(dir, $"x-{i}.npy"), l = Path.Combine(dir, $"l-{i}.npy");
                var (c, output, e) = Run([.. Job(), "--shard", $"{i}/{shards}", "--out", x, "--labels-out", l]);
                Assert.True(c == 0, e);
                var part = NpyFile.Read(x);
                int first = i * 300 / shards, next = (i + 1) * 300 / shards;
                Assert.Equal([next - first, 3], part.Shape);
                Assert.Contains($"rows {first}-{next - 1} of 300, shard {i}/{shards}", output);
                samples.AddRange(part.Floats!);
                labels.AddRange(NpyFile.Read(l).Longs!);
                files.Add(x);
                labelFiles.Add(l);
            }
            // Oracle: the whole run's values, compared as bits.
            Assert.Equal(expected.Floats!.Select(BitConverter.SingleToInt32Bits), samples.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(expectedLabels.Longs!, labels);

            string merged = Path.Combine(dir, "merged.npy"), mergedLabels = Path.Combine(dir, "merged-labels.npy");
            var (mc, mout, merr) = Run(["merge", "--out", merged, .. files]);
            Assert.True(mc == 0, merr);
            Assert.StartsWith($"merge: {shards} files, 300 rows of (3)", mout);
            Assert.Equal(Data(whole), Data(merged));
            Assert.Equal(0, Run(["merge", "--out", mergedLabels, .. labelFiles]).Code);
            Assert.Equal(Data(wholeLabels), Data(mergedLabels));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("3/3")]
    [InlineData("0/0")]
    [InlineData("-1/2")]
    [InlineData("x/2")]
    [InlineData("2")]
    [InlineData("1/2/3")]
    [InlineData("/4")]
    [InlineData("1/")]
    public void BadShardSpecsExitTwoWithOneLine(string spec)
    {
        var dir = TempDir();
        try
        {
            string line = AssertUsageError("gpaths generate", [.. Job(), "--shard", spec, "--out", Path.Combine(dir, "x.npy")]);
            Assert.Contains("--shard", line);
            Assert.False(File.Exists(Path.Combine(dir, "x.npy")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MoreShardsThanSamplesIsAUsageError()
    {
        var dir = TempDir();
        try
        {
            string line = AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), "--count", "3", "--shard", "3/4",
                "--out", Path.Combine(dir, "x.npy"));
            Assert.Contains("at most 3 shards", line);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MergeRejectsMismatchedRowsTypesAndMissingFiles()
    {
        var dir = TempDir();
        try
        {
            string a = Path.Combine(dir, "a.npy"), b = Path.Combine(dir, "b.npy"), l = Path.Combine(dir, "l.npy"), o = Path.Combine(dir, "o.npy");
            NpyFile.WriteFloat32(a, new float[6], [2, 3]);
            NpyFile.WriteFloat32(b, new float[4], [2, 2]);
            NpyFile.WriteInt64(l, new long[2], [2]);
            Assert.Contains("rows of shape (2)", AssertUsageError("gpaths merge", "merge", "--out", o, a, b));
            Assert.Contains("int64", AssertUsageError("gpaths merge", "merge", "--out", o, a, l));
            AssertUsageError("gpaths merge", "merge", "--out", o, a, Path.Combine(dir, "missing.npy"));
            AssertUsageError("gpaths merge", "merge", "--out", o);
            Assert.False(File.Exists(o));
        }
        finally { Directory.Delete(dir, true); }
    }
}
