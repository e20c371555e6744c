namespace SandboxBroker.Cli.Infrastructure;

/// <summary>
/// A plain aligned table (columns padded with spaces, no box characters, never wrapped), so the human output also
/// survives a pipe into grep, awk or a ticket.
/// </summary>
internal sealed class TableWriter(params string[] headers)
{
    private readonly List<string[]> rows = [];

    public void Add(params string?[] cells) => rows.Add(cells.Select(c => string.IsNullOrEmpty(c) ? "-" : c).ToArray());

    public int Count => rows.Count;

    public void WriteTo(Terminal terminal)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        terminal.Out(Line(headers, widths));
        foreach (var row in rows)
        {
            terminal.Out(Line(row, widths));
        }
    }

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
