using System.Text;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Registration;

/// <summary>
/// Reads a CSV with a header naming the columns sandbox_id, name, external_id and optionally sfdc_account_id (any
/// order, any case). Fields may be quoted ("a,b" and "" for a quote); a record is one line. Blank lines are ignored.
/// The first bad line stops the read with its line number.
/// </summary>
internal static class CsvSandboxReader
{
    private static readonly string[] Required = ["sandbox_id", "name", "external_id"];

    public static List<SandboxRow> Read(string path)
    {
        var rows = new List<SandboxRow>();
        Dictionary<string, int>? columns = null;
        var lineNumber = 0;
        foreach (var line in FileText.Lines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = Split(line, path, lineNumber);
            if (columns is null)
            {
                columns = Header(fields, path, lineNumber);
                continue;
            }

            if (fields.Count != columns.Count)
            {
                throw Bad(path, lineNumber, $"{fields.Count} field(s) where the header has {columns.Count}");
            }

            string? Field(string name) => columns.TryGetValue(name, out var i) ? fields[i].Trim() : null;
            var (id, name, externalId, sfdc) = (Field("sandbox_id"), Field("name"), Field("external_id"), Field("sfdc_account_id"));
            if (SandboxRowRules.Check(id, name, externalId, sfdc) is { } problem)
            {
                throw Bad(path, lineNumber, problem);
            }

            rows.Add(new SandboxRow(id!, name!, externalId!, string.IsNullOrEmpty(sfdc) ? null : sfdc, $"line {lineNumber}"));
        }

        if (columns is null)
        {
            throw new InputFileException($"{path}: empty file; expected a header line: sandbox_id,name,external_id[,sfdc_account_id]");
        }

        return rows;
    }

    private static Dictionary<string, int> Header(List<string> fields, string path, int lineNumber)
    {
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i++)
        {
            columns.TryAdd(fields[i].Trim().ToLowerInvariant(), i);
        }

        var missing = Required.Where(r => !columns.ContainsKey(r)).ToList();
        if (missing.Count > 0)
        {
            throw Bad(path, lineNumber, $"the header must name the columns sandbox_id, name, external_id (sfdc_account_id optional); missing: {string.Join(", ", missing)}");
        }

        return columns;
    }

    /// <summary>Splits one CSV line (RFC 4180 quoting, within the line).</summary>
    private static List<string> Split(string line, string path, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.ToString().Trim().Length == 0)
            {
                quoted = true;
                field.Clear();
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        if (quoted)
        {
            throw Bad(path, lineNumber, "a quoted field is not closed (a record must stay on one line)");
        }

        fields.Add(field.ToString());
        return fields;
    }

    private static InputFileException Bad(string path, int lineNumber, string problem) =>
        new($"{path} line {lineNumber}: {problem}; nothing was sent.");
}
