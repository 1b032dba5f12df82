using System.Buffers.Binary;
using System.Text;
using Appliance.Masking;
using BenchmarkDotNet.Attributes;

namespace Appliance.Bench.Masking;

/// <summary>
/// Rewriting one DataRow of a pgbench_accounts-like row (aid, bid, abalance, 84-byte filler) with one column
/// masked, against copying it unchanged. Every row of a masked result takes this path: no allocation.
/// </summary>
[MemoryDiagnoser]
public class DataRowMaskingBenchmarks
{
    private readonly byte[] _row = Row("4242", "1", "0", new string(' ', 84));
    private readonly byte[] _output = new byte[512];
    private MaskPlan _redact = null!;
    private MaskPlan _partial = null!;
    private MaskPlan _hash = null!;
    private MaskPlan _none = null!;

    [GlobalSetup]
    public void Setup()
    {
        _redact = Plan(MaskStrategy.Redact);
        _partial = Plan(new MaskStrategy(MaskKind.Partial, 4));
        _hash = Plan(new MaskStrategy(MaskKind.Hash));
        _none = MaskPlanFor([false, false, false, false], MaskStrategy.Redact);
    }

    private static MaskPlan Plan(MaskStrategy strategy) => MaskPlanFor([false, false, false, true], strategy);

    private static MaskPlan MaskPlanFor(bool[] masked, MaskStrategy strategy)
        => new(masked, masked.Select(_ => strategy).ToArray(), [23, 23, 23, 1042], [0, 0, 0, 0], masked.Select(_ => (System.Security.Cryptography.IncrementalHash?)ValueMasker.Hmac(new byte[32])).ToArray(), null);

    private static byte[] Row(params string[] values)
    {
        var bytes = new List<byte> { 0, (byte)values.Length };
        foreach (var v in values)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, v.Length);
            bytes.AddRange(length);
            bytes.AddRange(Encoding.UTF8.GetBytes(v));
        }
        return [.. bytes];
    }

    [Benchmark(Baseline = true)]
    public int Copy_Unmasked()
    {
        _output[0] = (byte)'D';
        _row.CopyTo(_output.AsSpan(5));
        return _row.Length;
    }

    [Benchmark]
    public int Plan_WithNoMasks() => _none.WriteMasked(_row, _output);

    [Benchmark]
    public int Mask_OneColumn_Redact() => _redact.WriteMasked(_row, _output);

    [Benchmark]
    public int Mask_OneColumn_Partial() => _partial.WriteMasked(_row, _output);

    [Benchmark]
    public int Mask_OneColumn_Hash() => _hash.WriteMasked(_row, _output);
}
