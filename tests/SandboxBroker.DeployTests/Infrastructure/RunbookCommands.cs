using System.Text.RegularExpressions;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>What a runbook command talks to, which decides how a test exercises it.</summary>
internal enum RunbookCommandKind
{
    /// <summary>The block of exports every other command assumes.</summary>
    Setup,

    /// <summary>The broker's HTTP API ($BROKER) or the sandbox-broker CLI: run against a real broker.</summary>
    Broker,

    /// <summary>The CSP API: run against the CSP stand-in.</summary>
    Csp,

    /// <summary>The AWS CLI: parsed and validated by the CLI against a local stand-in endpoint.</summary>
    Aws,

    /// <summary>Terraform: addresses, variables and var files checked against infra/.</summary>
    Terraform,

    /// <summary>A CloudWatch Logs Insights query: its fields and filter checked against the broker's log lines.</summary>
    Insights,
}

internal sealed record RunbookCommand(RunbookCommandKind Kind, string Text, int Line)
{
    public override string ToString() => $"docs/runbooks.md:{Line}: {Text}";
}

/// <summary>
/// The commands of docs/runbooks.md: every fenced code block, and every inline code span that starts with a command
/// (curl, aws, terraform, sandbox-broker) or is a Logs Insights query (fields ...). A fenced block whose lines all
/// talk to the same thing is one command (functions and loops span lines); otherwise each logical line is one.
/// </summary>
internal static partial class RunbookCommands
{
    public static IReadOnlyList<RunbookCommand> All() => Parse(Repo.Read("docs", "runbooks.md"));

    public static IReadOnlyList<RunbookCommand> Parse(string markdown)
    {
        var commands = new List<RunbookCommand>();
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var fence = Fence().Match(lines[i]);
            if (fence.Success)
            {
                var start = i + 1;
                var indent = fence.Groups["indent"].Value.Length;
                var body = new List<string>();
                for (i++; i < lines.Length && !Fence().IsMatch(lines[i]); i++)
                {
                    body.Add(lines[i].Length >= indent ? lines[i][indent..] : lines[i].TrimStart());
                }

                commands.AddRange(FromBlock(string.Join('\n', body), start + 1));
                continue;
            }

            foreach (Match span in InlineCode().Matches(lines[i]))
            {
                var text = span.Groups["code"].Value.Trim();
                if (CommandStart().IsMatch(text) || text.StartsWith("fields ", StringComparison.Ordinal))
                {
                    commands.Add(new RunbookCommand(Classify(text, i + 1), text, i + 1));
                }
            }
        }

        return commands;
    }

    private static IEnumerable<RunbookCommand> FromBlock(string block, int line)
    {
        if (block.Contains("export BROKER=", StringComparison.Ordinal))
        {
            return [new RunbookCommand(RunbookCommandKind.Setup, block.TrimEnd(), line)];
        }

        // Lines that call nothing themselves (comm, while/done, variable assignments) belong to the block's command.
        var logical = LogicalLines(block).ToList();
        var kinds = logical.Select(l => TryClassify(l.Text)).OfType<RunbookCommandKind>().Distinct().ToList();
        if (kinds.Count == 1)
        {
            return [new RunbookCommand(kinds[0], block.TrimEnd(), line)];
        }

        return logical.Select(l => new RunbookCommand(Classify(l.Text, line + l.Offset), l.Text, line + l.Offset));
    }

    private static IEnumerable<(string Text, int Offset)> LogicalLines(string block)
    {
        var pending = "";
        var offset = 0;
        var lines = block.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (pending.Length == 0)
            {
                offset = i;
            }

            var line = lines[i].TrimEnd();
            if (line.EndsWith('\\'))
            {
                pending += line[..^1].TrimEnd() + " ";
                continue;
            }

            var full = (pending + line.Trim()).Trim();
            pending = "";
            if (full.Length > 0)
            {
                yield return (full, offset);
            }
        }
    }

    private static RunbookCommandKind Classify(string text, int line) =>
        TryClassify(text) ?? throw new InvalidOperationException($"docs/runbooks.md:{line}: no test knows how to exercise this command: {text}");

    private static RunbookCommandKind? TryClassify(string text)
    {
        if (text.StartsWith("fields ", StringComparison.Ordinal))
        {
            return RunbookCommandKind.Insights;
        }

        if (text.Contains("csp.infoblox.com", StringComparison.Ordinal))
        {
            return RunbookCommandKind.Csp;
        }

        if (text.Contains("$BROKER", StringComparison.Ordinal) || text.StartsWith("sandbox-broker ", StringComparison.Ordinal))
        {
            return RunbookCommandKind.Broker;
        }

        if (AwsCall().IsMatch(text))
        {
            return RunbookCommandKind.Aws;
        }

        if (text.StartsWith("terraform ", StringComparison.Ordinal))
        {
            return RunbookCommandKind.Terraform;
        }

        return null;
    }

    /// <summary>Calls of the AWS CLI inside a command (a command start, after a pipe, ;, $( or a function brace).</summary>
    [GeneratedRegex(@"(?:^|[;|{(]\s*|&&\s*|do\s+)aws\s+[a-z]")]
    public static partial Regex AwsCall();

    [GeneratedRegex(@"^(?<indent>\s*)```")]
    private static partial Regex Fence();

    [GeneratedRegex("`(?<code>[^`]+)`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"^(curl|aws|terraform|sandbox-broker)\s")]
    private static partial Regex CommandStart();
}
