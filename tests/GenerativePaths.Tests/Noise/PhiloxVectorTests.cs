using GenerativePaths.Tensors;
using System.Runtime.Intrinsics;
using GenerativePaths.Noise;
using MathNet.Numerics.Distributions;
using Xunit;
using Xunit.Abstractions;

namespace GenerativePaths.Tests.Noise;

/// <summary>The vectorised noise kernel: the same bits at every width, accurate polynomials, normal values.</summary>
public class PhiloxVectorTests(ITestOutputHelper output)
{
    private static readonly NoiseWidth[] Widths = [NoiseWidth.Scalar, NoiseWidth.Vector128, NoiseWidth.Vector256, NoiseWidth.Vector512, NoiseWidth.Best];

    private static float[] Draw(int length, long first, NoiseWidth width, uint id = 3, ulong seed = 0xDEADBEEF_01234567, ulong stream = 0x1_0000_0007)
    {
        var d = new float[length];
        PhiloxNormals.Fill(d, first, id, seed, stream, width);
        return d;
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, the scalar path gives {expected[i]:R}");
    }

    [Fact]
    public void EveryWidthGivesTheScalarBitsForEveryLengthAndOffset()
    {
        output.WriteLine($"Best width on this machine: {PhiloxNormals.BestWidth}; Vector512 accelerated: {Vector512.IsHardwareAccelerated}, Vector256: {Vector256.IsHardwareAccelerated}, Vector128: {Vector128.IsHardwareAccelerated}");
        foreach (long first in new long[] { 0, 1, 17, 63, 64, 65, 1000 })
            for (int n = 0; n <= 300; n++)
            {
                var scalar = Draw(n, first, NoiseWidth.Scalar);
                foreach (var w in Widths) AssertSameBits(scalar, Draw(n, first, w), $"{w}, first {first}, length {n}");
            }
        foreach (int n in new[] { 4093, 16_385, 65_537 })
        {
            var scalar = Draw(n, 5, NoiseWidth.Scalar, id: 4_000_000_000, seed: ulong.MaxValue, stream: ulong.MaxValue);
            foreach (var w in Widths) AssertSameBits(scalar, Draw(n, 5, w, id: 4_000_000_000, seed: ulong.MaxValue, stream: ulong.MaxValue), $"{w}, length {n}");
        }
    }

    [Fact]
    public void AnyWindowMatchesTheWholeRowAtEveryWidth()
    {
        var whole = Draw(700, 0, NoiseWidth.Scalar);
        foreach (var w in Widths)
            for (int first = 0; first < 200; first += 7)
                foreach (int len in new[] { 0, 1, 63, 64, 65, 129, 500 })
                    AssertSameBits(whole.AsSpan(first, len).ToArray(), Draw(len, first, w), $"{w} window {first}+{len}");
    }

    /// <summary>The words behind each element, as documented: element e of group g is word e / 16 of counter 16 g + e mod 16.</summary>
    [Fact]
    public void ElementsFollowTheDocumentedLayoutAndTransform()
    {
        ulong seed = 0x0123456789ABCDEF, stream = 0x1_0000_0003;
        uint id = 5;
        var z = Draw(300, 0, NoiseWidth.Best, id, seed, stream);
        for (int e = 0; e < z.Length; e++)
        {
            uint counter = (uint)(e / 64 * 16 + e % 16);
            int word = e % 64 / 16;
            var (x0, x1, x2, x3) = Philox.Generate(counter, id, (uint)stream, (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32));
            uint[] w = [x0, x1, x2, x3];
            uint a = w[word & 2], b = w[(word & 2) + 1];
            double u = ((a >> 8) + 1.0) / 16777216.0, angle = 2 * Math.PI * (b >> 8) / 16777216.0;
            double r = Math.Sqrt(-2 * Math.Log(u));
            double expected = (word & 1) == 0 ? r * Math.Cos(angle) : r * Math.Sin(angle);
            Assert.True(Math.Abs(expected - z[e]) <= 2e-6 * Math.Max(1, r), $"element {e}: {z[e]} against {expected}");
        }
    }

    /// <summary>The logarithm over its whole domain, every <c>u = (k + 1) 2^-24</c>, against <see cref="Math.Log(double)"/>.</summary>
    [Fact]
    public void LogarithmIsAccurateOverItsDomain()
    {
        double maxAbs = 0, maxRel = 0;
        for (uint k = 0; k < 1u << 24; k++)
        {
            float u = (k + 1) * (1f / 16777216f);
            double exact = Math.Log(u), got = PhiloxNormals.Log(u);
            double err = Math.Abs(got - exact);
            maxAbs = Math.Max(maxAbs, err);
            maxRel = Math.Max(maxRel, err / Math.Abs(exact == 0 ? 1 : exact));
        }
        // Also wider arguments (other floats the routine accepts).
        foreach (float x in new[] { 1e-30f, 1e-10f, 0.5f, 0.7071067f, 0.7071068f, 1.4142135f, 2f, 3.5f, 1e10f, float.MaxValue })
        {
            double err = Math.Abs(PhiloxNormals.Log(x) - Math.Log(x));
            Assert.True(err <= 2.5e-7 * Math.Max(1, Math.Abs(Math.Log(x))), $"log {x}: error {err}");
        }
        output.WriteLine($"log on (0, 1]: max absolute error {maxAbs:E3}, max relative error {maxRel:E3}");
        Assert.True(maxRel < 2.5e-7, $"relative error {maxRel}");
        Assert.True(maxAbs < 1e-6, $"absolute error {maxAbs}");
    }

    /// <summary>Sine and cosine of <c>2 pi k 2^-24</c> for every <c>k</c> against <see cref="Math.SinCos(double)"/>.</summary>
    [Fact]
    public void SineAndCosineAreAccurateOverTheCircle()
    {
        double maxErr = 0;
        for (uint k = 0; k < 1u << 24; k++)
        {
            var (s, c) = PhiloxNormals.SinCosTurn(k);
            var (es, ec) = Math.SinCos(2 * Math.PI * k / 16777216.0);
            maxErr = Math.Max(maxErr, Math.Max(Math.Abs(s - es), Math.Abs(c - ec)));
            Assert.True(s * s + c * c is > 0.9999990f and < 1.000001f);
        }
        output.WriteLine($"sin/cos of 2 pi k 2^-24: max absolute error {maxErr:E3}");
        Assert.True(maxErr < 1.5e-7, $"error {maxErr}");
    }

    /// <summary>
    /// 10^6 values: mean, variance, skewness and excess kurtosis within four standard errors, and the
    /// Kolmogorov–Smirnov and Anderson–Darling statistics below their 1% critical values.
    /// </summary>
    [Fact]
    public void MillionValuesAreStandardNormal()
    {
        const int n = 1_000_000;
        var z = new double[n];
        var row = new float[n / 4];
        for (int s = 0; s < 4; s++)
        {
            PhiloxNormals.Fill(row, 0, (uint)s, 2024, 11);
            for (int i = 0; i < row.Length; i++) z[s * row.Length + i] = row[i];
        }
        double mean = z.Average();
        double m2 = 0, m3 = 0, m4 = 0;
        foreach (double v in z) { double d = v - mean; m2 += d * d; m3 += d * d * d; m4 += d * d * d * d; }
        m2 /= n; m3 /= n; m4 /= n;
        double skew = m3 / Math.Pow(m2, 1.5), kurt = m4 / (m2 * m2) - 3;
        Assert.True(Math.Abs(mean) < 4 / Math.Sqrt(n), $"mean {mean}");
        Assert.True(Math.Abs(m2 - 1) < 4 * Math.Sqrt(2.0 / n), $"variance {m2}");
        Assert.True(Math.Abs(skew) < 4 * Math.Sqrt(6.0 / n), $"skewness {skew}");
        Assert.True(Math.Abs(kurt) < 4 * Math.Sqrt(24.0 / n), $"excess kurtosis {kurt}");
        Array.Sort(z);
        double ks = 0, ad = 0;
        for (int i = 0; i < n; i++)
        {
            double f = Normal.CDF(0, 1, z[i]);
            ks = Math.Max(ks, Math.Max((i + 1.0) / n - f, f - (double)i / n));
            double fr = Normal.CDF(0, 1, z[n - 1 - i]);
            ad += (2 * i + 1) * (Math.Log(Math.Max(f, 1e-300)) + Math.Log(Math.Max(1 - fr, 1e-300)));
        }
        ad = -n - ad / n;
        output.WriteLine($"n {n}: mean {mean:E3}, variance {m2:F6}, skewness {skew:E3}, excess kurtosis {kurt:E3}, KS {ks * Math.Sqrt(n):F4} (x sqrt n), AD {ad:F4}");
        // 1% critical values: KS sqrt(n) D < 1.628; Anderson–Darling (fully specified normal) A^2 < 3.857.
        Assert.True(ks * Math.Sqrt(n) < 1.628, $"KS {ks * Math.Sqrt(n)}");
        Assert.True(ad < 3.857, $"AD {ad}");
        Assert.True(z[0] > -5.8 && z[^1] < 5.8);
    }
}
