namespace SandboxBroker.LoadTests.Report;

/// <summary>Latencies (ms) recorded from many tasks at once into a preallocated array; percentiles by sorting once.</summary>
public sealed class Latencies(int capacity)
{
    private readonly double[] values = new double[Math.Max(capacity, 16)];
    private int count;
    private long overflow;

    public int Count => Math.Min(Volatile.Read(ref count), values.Length);

    public void Add(double milliseconds)
    {
        var slot = Interlocked.Increment(ref count) - 1;
        if (slot < values.Length)
        {
            values[slot] = milliseconds;
        }
        else
        {
            Interlocked.Increment(ref overflow);
        }
    }

    public LatencySummary Summarize()
    {
        var n = Count;
        if (n == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0);
        }

        var sorted = values.AsSpan(0, n).ToArray();
        Array.Sort(sorted);
        return new LatencySummary(n, At(sorted, 0.50), At(sorted, 0.95), At(sorted, 0.99), sorted[^1], sorted.Average());
    }

    /// <summary>Nearest-rank percentile.</summary>
    private static double At(double[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}

public sealed record LatencySummary(int Count, double P50, double P95, double P99, double Max, double Mean)
{
    public string Format() => Count == 0 ? "–" : $"{P50:0.0} / {P95:0.0} / {P99:0.0}";
}
