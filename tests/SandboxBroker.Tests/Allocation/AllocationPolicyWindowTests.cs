using SandboxBroker.Api.Allocation;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Tests.Storage;

namespace SandboxBroker.Tests.Allocation;

/// <summary>
/// What the policy does with the rest of a window after a lost claim (issue 20 item 4): a claim lost to another
/// process (the store learnt it from a failed write) ends the window, so the next claim comes from a fresh read; a
/// candidate this process had just claimed itself (no write spent) only moves on to the next one.
/// </summary>
public sealed class AllocationPolicyWindowTests
{
    [Fact]
    public async Task A_claim_lost_to_another_process_reads_a_fresh_window_before_the_next_write()
    {
        var session = new ScriptedSession(lostWithWrite: true);
        var outcome = await RunAsync(session);

        var allocated = Assert.IsType<AllocationOutcome.Allocated>(outcome);
        Assert.Equal(2, session.WindowsRead);
        Assert.Equal(2, session.Claims.Count); // one lost, one from the second window; none of the stale first window's others
        Assert.StartsWith("w2-", session.Claims[1], StringComparison.Ordinal);
        Assert.Equal(session.Claims[1], allocated.Sandbox.SandboxId);
    }

    [Fact]
    public async Task A_candidate_this_process_just_claimed_moves_on_within_the_same_window()
    {
        var session = new ScriptedSession(lostWithWrite: false);
        var outcome = await RunAsync(session);

        Assert.IsType<AllocationOutcome.Allocated>(outcome);
        Assert.Equal(1, session.WindowsRead);
        Assert.Equal(2, session.Claims.Count);
        Assert.All(session.Claims, id => Assert.StartsWith("w1-", id, StringComparison.Ordinal));
    }

    private static async Task<AllocationOutcome> RunAsync(ScriptedSession session)
    {
        var options = new StaticOptionsMonitor<BrokerOptions>(new BrokerOptions());
        var policy = new AllocationPolicy(TimeProvider.System, options, new CandidateReservations(), new AllocationQuota(TimeProvider.System),
            new LabsWithoutReservations(TimeProvider.System), new BrokerMetrics());
        return await policy.RunAsync(session, new TrackCaller("student-1", "student-1", null, null), default);
    }

    /// <summary>Windows of five candidates ("w1-…", "w2-…"); the first claim of the run is lost, every later one wins.</summary>
    private sealed class ScriptedSession(bool lostWithWrite) : IAllocationSession
    {
        public int WindowsRead { get; private set; }

        public List<string> Claims { get; } = [];

        public ValueTask<string?> ReadKeyAsync(string requester, string idempotencyKey, CancellationToken ct) => ValueTask.FromResult<string?>(null);

        public ValueTask<Sandbox?> ReadAsync(string sandboxId, CancellationToken ct) => ValueTask.FromResult<Sandbox?>(null);

        public ValueTask<IReadOnlyList<string>> FindCandidatesAsync(CandidateQuery query, CancellationToken ct)
        {
            WindowsRead++;
            var window = Enumerable.Range(1, 5).Select(i => $"w{WindowsRead}-{i}").ToList();
            return ValueTask.FromResult<IReadOnlyList<string>>(window);
        }

        public ValueTask<ClaimResult> TryClaimAsync(ClaimRequest request, CancellationToken ct)
        {
            Claims.Add(request.SandboxId);
            return ValueTask.FromResult<ClaimResult>(Claims.Count == 1
                ? new ClaimResult.SandboxTaken(WindowStale: lostWithWrite)
                : new ClaimResult.Claimed(new Sandbox
                {
                    SandboxId = request.SandboxId,
                    Name = request.SandboxId,
                    ExternalId = "identity/accounts/" + request.SandboxId,
                    Status = SandboxStatus.Allocated,
                    AllocatedTo = request.Requester,
                }));
        }
    }
}
