namespace SandboxBroker.Cli.Infrastructure;

/// <summary>
/// Progress on stderr (stdout stays clean for the result): a bar redrawn in place on a terminal, one line per update
/// when stderr is a file or a pipe (a CI log or a test reads whole lines).
/// </summary>
internal sealed class ProgressDisplay(Terminal terminal, string label, long total)
{
    private const int BarWidth = 30;
    private bool drawn;

    public void Report(long done, string? detail = null)
    {
        var suffix = detail is null ? string.Empty : "  " + detail;
        if (!Terminal.ErrorIsInteractive)
        {
            terminal.Error($"{label}: {done}/{total}{suffix}");
            return;
        }

        var filled = total <= 0 ? BarWidth : (int)(BarWidth * Math.Clamp((double)done / total, 0, 1));
        var percent = total <= 0 ? 100 : (int)(100 * Math.Clamp((double)done / total, 0, 1));
        terminal.ErrorInPlace($"\r{label} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {done}/{total} {percent,3}%{suffix}\u001b[K");
        drawn = true;
    }

    /// <summary>Progress without a known total (a job run): its status line, redrawn in place or one line per update.</summary>
    public void Status(string text)
    {
        if (!Terminal.ErrorIsInteractive)
        {
            terminal.Error($"{label}: {text}");
            return;
        }

        terminal.ErrorInPlace($"\r{label}: {text}\u001b[K");
        drawn = true;
    }

    /// <summary>Ends the in-place line so the next output starts on its own line.</summary>
    public void Finish()
    {
        if (drawn)
        {
            terminal.Error(string.Empty);
            drawn = false;
        }
    }
}
