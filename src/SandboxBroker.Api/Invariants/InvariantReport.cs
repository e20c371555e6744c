namespace SandboxBroker.Api.Invariants;

/// <summary>
/// The result of one invariant pass (GET {base}/admin/invariants, the periodic job, the GameDay suite).
/// <see cref="Violations"/> is the sum over <see cref="Checks"/>; <see cref="Details"/> names at most
/// <see cref="InvariantChecker.MaxDetails"/> of them.
/// </summary>
public sealed record InvariantReport
{
    /// <summary>Violations found by every check together (0 is the only healthy value).</summary>
    public required int Violations { get; init; }

    /// <summary>Per check (snake_case names, see <see cref="InvariantChecks"/>): what it examined and what it found.</summary>
    public required IReadOnlyDictionary<string, InvariantCheckResult> Checks { get; init; }

    /// <summary>One line per confirmed violation (capped), naming the sandbox and what is wrong with it.</summary>
    public required IReadOnlyList<InvariantViolation> Details { get; init; }

    /// <summary>Non-tombstone sandboxes per state, as the walk found them.</summary>
    public required IReadOnlyDictionary<string, long> Counts { get; init; }

    /// <summary>Epoch seconds when the pass started.</summary>
    public required long CheckedAt { get; init; }

    public required long DurationMs { get; init; }
}

/// <summary>One check of a pass. <see cref="Inconclusive"/> lists what could not be settled (the pool kept changing).</summary>
public sealed record InvariantCheckResult
{
    public required int Violations { get; init; }

    /// <summary>How many records (or, for counts, states) the check looked at.</summary>
    public required long Examined { get; init; }

    public required string Description { get; init; }

    public IReadOnlyList<string> Inconclusive { get; init; } = [];
}

/// <summary>One confirmed violation: the check, the sandbox (when there is one) and what is wrong.</summary>
public sealed record InvariantViolation(string Check, string? SandboxId, string Detail);

/// <summary>The names of the checks, as they appear in <see cref="InvariantReport.Checks"/>.</summary>
public static class InvariantChecks
{
    /// <summary>No requester holds two allocated sandboxes under one idempotency key (no sandbox is handed out twice for one key).</summary>
    public const string OneSandboxPerKey = "one_sandbox_per_key";

    /// <summary>Every allocated sandbox records its holder, its idempotency key and allocated_at &gt; 0.</summary>
    public const string AllocatedComplete = "allocated_complete";

    /// <summary>Every allocated sandbox is what its holder's idempotency record names: a replay finds it, never a second one.</summary>
    public const string ReplayFindsSandbox = "replay_finds_sandbox";

    /// <summary>Every pending_deletion and deletion_failed sandbox still records its holder (the holder's GET and stop keep working).</summary>
    public const string HolderRecorded = "holder_recorded";

    /// <summary>No available (or stale) sandbox carries a holder: a sandbox is single use.</summary>
    public const string UnallocatedUnheld = "unallocated_unheld";

    /// <summary>The store's counts per state equal what a walk of each state finds.</summary>
    public const string CountsConsistent = "counts_consistent";

    /// <summary>
    /// Every sandbox's history replays to its state: each event starts where the one before ended, and the last ends in
    /// the current state (a change and its event are one write, so one read always sees both or neither).
    /// </summary>
    public const string HistoryReplays = "history_replays";

    /// <summary>Every reserved sandbox belongs to an active reservation for its lab; no reservation holds more than its count.</summary>
    public const string ReservationsConsistent = "reservations_consistent";
}
