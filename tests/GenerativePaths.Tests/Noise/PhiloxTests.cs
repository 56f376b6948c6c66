using FsCheck;
using FsCheck.Xunit;
using GenerativePaths.Noise;
using GenerativePaths.Tensors;
using GenerativePaths.Tests.Tensors;
using MathNet.Numerics.Distributions;
using Xunit;

namespace GenerativePaths.Tests.Noise;

public class PhiloxTests
{
    /// <summary>
    /// Known answers of Philox4x32-10 from the Random123 distribution (D. E. Shaw Research,
    /// <c>tests/kat_vectors</c>, the three "philox4x32 10" lines): counter, key, expected output.
    /// </summary>
    public static TheoryData<uint[], uint[], uint[]> KnownAnswers => new()
    {
        { [0x00000000, 0x00000000, 0x00000000, 0x00000000], [0x00000000, 0x00000000], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
        { [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd] },
        { [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1] },
    };

    [Theory, MemberData(nameof(KnownAnswers))]
    public void PhiloxMatchesRandom123KnownAnswers(uint[] counter, uint[] key, uint[] expected)
    {
        var (a, b, c, d) = Philox.Generate(counter[0], counter[1], counter[2], counter[3], key[0], key[1]);
        Assert.Equal(expected, new[] { a, b, c, d });
    }

    /// <summary>The same known answers through the vector rounds of the noise kernel, in every lane of every width.</summary>
    [Theory, MemberData(nameof(KnownAnswers))]
    public void VectorRoundsMatchRandom123KnownAnswers(uint[] counter, uint[] key, uint[] expected)
    {
        static uint[] Lanes<TU>(TU v) where TU : struct
            => v switch
            {
                uint u => [u],
                System.Runtime.Intrinsics.Vector128<uint> x => [.. Enumerable.Range(0, 4).Select(i => x[i])],
                System.Runtime.Intrinsics.Vector256<uint> x => [.. Enumerable.Range(0, 8).Select(i => x[i])],
                System.Runtime.Intrinsics.Vector512<uint> x => [.. Enumerable.Range(0, 16).Select(i => x[i])],
                _ => throw new InvalidOperationException(),
            };
        void Check<TL, TU, TF>() where TL : INoiseLanes<TU, TF> where TU : struct where TF : struct
        {
            TU c0 = TL.SplatU(counter[0]), c1 = TL.SplatU(counter[1]), c2 = TL.SplatU(counter[2]), c3 = TL.SplatU(counter[3]);
            PhiloxNormals.Rounds<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, key[0], key[1]);
            var words = new[] { Lanes(c0), Lanes(c1), Lanes(c2), Lanes(c3) };
            for (int w = 0; w < 4; w++) Assert.All(words[w], v => Assert.Equal(expected[w], v));
        }
        Check<ScalarLanes, uint, float>();
        Check<Lanes128, System.Runtime.Intrinsics.Vector128<uint>, System.Runtime.Intrinsics.Vector128<float>>();
        Check<Lanes256, System.Runtime.Intrinsics.Vector256<uint>, System.Runtime.Intrinsics.Vector256<float>>();
        Check<Lanes512, System.Runtime.Intrinsics.Vector512<uint>, System.Runtime.Intrinsics.Vector512<float>>();
    }

    /// <summary>The documented mapping, written out here from Philox words to normals in double, element by element.</summary>
    private static double Expected(ulong seed, uint sample, ulong stream, int e)
    {
        var (x0, x1, x2, x3) = Philox.Generate((uint)(e / 64 * 16 + e % 16), sample, (uint)stream, (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32));
        uint[] w = [x0, x1, x2, x3];
        int word = e % 64 / 16, pair = word / 2;
        double u1 = ((w[2 * pair] >> 8) + 1.0) / 16777216.0, u2 = (w[2 * pair + 1] >> 8) / 16777216.0;
        double r = Math.Sqrt(-2 * Math.Log(u1));
        return word % 2 == 0 ? r * Math.Cos(2 * Math.PI * u2) : r * Math.Sin(2 * Math.PI * u2);
    }

    [Fact]
    public void ValuesFollowTheDocumentedMapping()
    {
        ulong seed = 0x0123456789ABCDEF, stream = 0x1_0000_0003;
        using var d = BatchTensor<double>.Allocate(3, 139);
        using var f = BatchTensor<float>.Allocate(3, 139);
        long[] ids = [5, 0, 4_000_000_000];
        var noise = new PhiloxNoise(seed);
        noise.Fill(d, (long)stream, ids);
        noise.Fill(f, (long)stream, ids);
        for (int b = 0; b < 3; b++)
            for (int e = 0; e < 139; e++)
            {
                double expected = Expected(seed, (uint)ids[b], stream, e);
                Assert.True(Math.Abs(expected - d.Row(b)[e]) <= 2e-6 * Math.Max(1, Math.Abs(expected)), $"row {b} element {e}: {d.Row(b)[e]} against {expected}");
                Assert.Equal((double)f.Row(b)[e], d.Row(b)[e]);
            }
    }

    [Fact]
    public void AnyWindowOfASampleIsTheSameAsTheWholeRow()
    {
        var whole = new double[41];
        PhiloxNoise.FillRow<double>(whole, 9, 3, 7);
        for (int first = 0; first < 41; first++)
            for (int len = 0; first + len <= 41; len += 3)
            {
                var part = new double[len];
                PhiloxNoise.FillRange<double>(part, first, 9, 3, 7);
                Assert.Equal(whole.AsSpan(first, len).ToArray(), part);
            }
    }

    [Fact]
    public void SameCoordinatesGiveTheSameNoiseAndOthersDiffer()
    {
        double[] Draw(ulong seed, long stream, long id)
        {
            using var t = BatchTensor<double>.Allocate(1, 64);
            new PhiloxNoise(seed).Fill(t, stream, [id]);
            return t.Span.ToArray();
        }
        var a = Draw(1, 2, 3);
        Assert.Equal(a, Draw(1, 2, 3));
        Assert.NotEqual(a, Draw(2, 2, 3));
        Assert.NotEqual(a, Draw(1, 3, 3));
        Assert.NotEqual(a, Draw(1, 2, 4));
    }

    [Fact]
    public void PerSampleSeedsGiveEachSampleItsOwnSeedsNoise()
    {
        ulong[] seeds = [11, 22, 33, 44];
        var perSample = new PhiloxNoise(seeds);
        using var t = BatchTensor<float>.Allocate(3, 10);
        perSample.Fill(t, 5, [3, 0, 2]);
        long[] ids = [3, 0, 2];
        for (int b = 0; b < 3; b++)
        {
            using var single = BatchTensor<float>.Allocate(1, 10);
            new PhiloxNoise(seeds[ids[b]]).Fill(single, 5, [ids[b]]);
            Assert.Equal(single.Span.ToArray(), t.Row(b).ToArray());
        }
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => perSample.Fill(t, 5, [0, 1, 4]));
        Assert.Equal("sampleIds", ex.ParamName);
        Assert.Contains("row 2", ex.Message);
        Assert.Throws<ArgumentException>(() => new PhiloxNoise(ReadOnlySpan<ulong>.Empty));
    }

    [Fact]
    public void DefaultIdsAreTheRowIndicesForSmallAndLargeBatches()
    {
        foreach (int batch in new[] { 1, 256, 257, 600 })
        {
            using var implicitIds = BatchTensor<float>.Allocate(batch, 9);
            using var explicitIds = BatchTensor<float>.Allocate(batch, 9);
            var noise = new PhiloxNoise(77);
            noise.Fill(implicitIds, 4);
            noise.Fill(explicitIds, 4, [.. Enumerable.Range(0, batch).Select(i => (long)i)]);
            Assert.True(implicitIds.Span.SequenceEqual(explicitIds.Span), $"batch {batch}");
        }
    }

    [Fact]
    public void BadSampleIdsThrow()
    {
        using var t = BatchTensor<double>.Allocate(2, 3);
        var noise = new PhiloxNoise(1);
        Assert.Equal("sampleIds", Assert.Throws<ArgumentException>(() => noise.Fill(t, 0, [0])).ParamName);
        Assert.Equal("sampleIds", Assert.Throws<ArgumentOutOfRangeException>(() => noise.Fill(t, 0, [0, -1])).ParamName);
        Assert.Equal("sampleIds", Assert.Throws<ArgumentOutOfRangeException>(() => noise.Fill(t, 0, [0, 1L << 33])).ParamName);
    }

    /// <summary>Any split of a batch into sub-batches, in any order, with matching ids gives each sample the same noise.</summary>
    [Property(MaxTest = 150)]
    public bool AnySplitOfABatchGivesTheSameNoise(ulong seed, int stream, byte batchRaw, byte rowRaw, int shuffleSeed, byte pieces)
    {
        int batch = 1 + batchRaw % 12, row = rowRaw % 45;
        var noise = new PhiloxNoise(seed);
        using var whole = BatchTensor<double>.Allocate(batch, row);
        noise.Fill(whole, stream);
        var rng = new Random(shuffleSeed);
        var order = Enumerable.Range(0, batch).OrderBy(_ => rng.Next()).ToArray();
        int cuts = 1 + pieces % batch;
        int start = 0;
        for (int p = 0; p < cuts; p++)
        {
            int len = p == cuts - 1 ? batch - start : rng.Next(0, batch - start + 1);
            var ids = order.Skip(start).Take(len).Select(i => (long)i).ToArray();
            using var part = BatchTensor<double>.Allocate(len, row);
            noise.Fill(part, stream, ids);
            for (int b = 0; b < len; b++)
                if (!part.Row(b).SequenceEqual(whole.Row((int)ids[b]))) return false;
            start += len;
        }
        return true;
    }

    private static double[] Sample(int samples, int row, long stream, ulong seed = 2024)
    {
        using var t = BatchTensor<double>.Allocate(samples, row);
        new PhiloxNoise(seed).Fill(t, stream);
        return t.Span.ToArray();
    }

    [Fact]
    public void NormalsPassKolmogorovSmirnovAndMoments()
    {
        var z = Sample(50, 4001, stream: 3);
        int n = z.Length;
        Array.Sort(z);
        double dMax = 0;
        for (int i = 0; i < n; i++)
        {
            double cdf = Normal.CDF(0, 1, z[i]);
            dMax = Math.Max(dMax, Math.Max((i + 1.0) / n - cdf, cdf - (double)i / n));
        }
        // Critical value of the one-sample KS statistic at significance 0.001: 1.95 / sqrt(n).
        Assert.True(dMax < 1.95 / Math.Sqrt(n), $"KS statistic {dMax} over {n} normals");
        double mean = z.Average();
        double variance = z.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        Assert.True(Math.Abs(mean) < 5 / Math.Sqrt(n), $"mean {mean}");
        Assert.True(Math.Abs(variance - 1) < 5 * Math.Sqrt(2.0 / n), $"variance {variance}");
        double fourth = z.Sum(v => v * v * v * v) / n;
        Assert.True(Math.Abs(fourth - 3) < 5 * Math.Sqrt(96.0 / n), $"fourth moment {fourth}");
    }

    private static double Correlation(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double ma = 0, mb = 0;
        for (int i = 0; i < a.Length; i++) { ma += a[i]; mb += b[i]; }
        ma /= a.Length; mb /= b.Length;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }

    [Fact]
    public void NeighbouringStreamsSamplesAndElementsAreUncorrelated()
    {
        const int samples = 20, row = 10_000;
        double bound = 5 / Math.Sqrt(samples * row);
        var s0 = Sample(samples, row, stream: 0);
        var s1 = Sample(samples, row, stream: 1);
        Assert.True(Math.Abs(Correlation(s0, s1)) < bound, "streams 0 and 1");
        // Samples b and b+1 of one stream.
        var a = new List<double>(); var b = new List<double>();
        for (int s = 0; s + 1 < samples; s++) { a.AddRange(s0.AsSpan(s * row, row).ToArray()); b.AddRange(s0.AsSpan((s + 1) * row, row).ToArray()); }
        Assert.True(Math.Abs(Correlation(a.ToArray(), b.ToArray())) < 5 / Math.Sqrt(a.Count), "neighbouring samples");
        // Elements at lags 1 (the two values of one Box-Muller pair), 2, 4 (the next Philox block) and 5.
        foreach (int lag in new[] { 1, 2, 3, 4, 5 })
        {
            var x = s0.AsSpan(0, s0.Length - lag); var y = s0.AsSpan(lag);
            Assert.True(Math.Abs(Correlation(x, y)) < 5 / Math.Sqrt(x.Length), $"lag {lag}");
        }
        // Squares too: Box-Muller pairs share a radius, so dependence would show up here.
        var sq = s0.Select(v => v * v).ToArray();
        Assert.True(Math.Abs(Correlation(sq.AsSpan(0, sq.Length - 1), sq.AsSpan(1))) < 5 / Math.Sqrt(sq.Length), "squares at lag 1");
        // Neighbouring seeds.
        var seedNext = Sample(samples, row, stream: 0, seed: 2025);
        Assert.True(Math.Abs(Correlation(s0, seedNext)) < bound, "seeds 2024 and 2025");
    }
}

[Collection(TensorSettingsCollection.Name)]
public class PhiloxThreadTests
{
    [Fact]
    public void SplittingAcrossCoresGivesTheSameNoise()
    {
        foreach (var (batch, row) in new[] { (2, 40_003), (300, 101), (3, 16_384) })
        {
            using var serial = BatchTensor<float>.Allocate(batch, row);
            using var parallel = BatchTensor<float>.Allocate(batch, row);
            var noise = new PhiloxNoise([.. Enumerable.Range(0, batch).Select(i => (ulong)(i * 7 + 1))]);
            using (TensorSettings.Use(threshold: int.MaxValue)) noise.Fill(serial, 17);
            using (TensorSettings.Use(threshold: 1, degree: 4)) noise.Fill(parallel, 17);
            Assert.True(serial.Span.SequenceEqual(parallel.Span), $"{batch} x {row}");
            var row0 = new float[row];
            PhiloxNoise.FillRow<float>(row0, 1, 0, 17);
            Assert.Equal(row0, parallel.Row(0).ToArray());
        }
    }
}
