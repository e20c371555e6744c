using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.NiosXaas;

/// <summary>
/// One sandbox's pre-delete step: <see cref="Outcome"/> is success, skipped (no matching service, or an account
/// NIOSXaaS does not know), shadow (matching services listed, none deleted) or failed (<see cref="Error"/>).
/// </summary>
public sealed record NiosXaasOutcome(string Outcome, IReadOnlyList<string> Matched, int Deleted, string? Error = null, bool CircuitOpen = false)
{
    public const string Success = "success";
    public const string Skipped = "skipped";
    public const string Shadow = "shadow";
    public const string Failed = "failed";

    public bool IsFailure => Outcome == Failed;

    /// <summary>The sandbox's niosxaas_* attributes after this step: cleaned once it succeeded or had nothing to do.</summary>
    public NiosXaasMark Mark(long now) => Outcome switch
    {
        Success => new NiosXaasMark(now, false, null),
        Skipped => new NiosXaasMark(now, true, null),
        Failed => new NiosXaasMark(null, false, Error),
        _ => new NiosXaasMark(null, false, null),
    };

    /// <summary>The history event's reason.</summary>
    public string Describe() => Outcome switch
    {
        Success => $"niosxaas cleanup: deleted {Deleted} universal service(s) ({string.Join(", ", Matched)})",
        Skipped => "niosxaas cleanup skipped: " + (Error ?? "no matching universal service"),
        Shadow => $"niosxaas shadow mode: would delete {Matched.Count} universal service(s) ({string.Join(", ", Matched)}); deleted none",
        _ => "niosxaas cleanup failed: " + Error,
    };
}

/// <summary>
/// The NIOSXaaS pre-delete step (SPEC 12), as the original's app/services/niosxaas.py with its fixes: one sign-in per
/// cleanup pass (<see cref="BeginPass"/>), its JWT reused until refused and then renewed once; one HTTP attempt per
/// call behind the step's own circuit breaker; never an exception out of a sandbox's step (bad input from upstream is a
/// failed step, counted on the breaker).
/// </summary>
internal sealed partial class NiosXaasCleanup(
    NiosXaasClient client,
    IOptionsMonitor<NiosXaasOptions> options,
    BrokerMetrics metrics,
    TimeProvider time,
    ILogger<NiosXaasCleanup> logger)
{
    private NiosXaasClient Client => client;
    private NiosXaasOptions Settings => options.CurrentValue;
    private BrokerMetrics Metrics => metrics;
    private TimeProvider Time => time;
    private ILogger Logger => logger;

    public bool Enabled => options.CurrentValue.Enabled;

    public bool BlockDeletionOnFailure => options.CurrentValue.BlockDeletionOnFailure;

    /// <summary>A cleanup pass's session: holds the sign-in JWT across the pass's sandboxes.</summary>
    public Pass BeginPass() => new(this);

    internal sealed class Pass(NiosXaasCleanup step)
    {
        private string? rootJwt;

        /// <summary>Runs the step for one sandbox; never throws for anything upstream did.</summary>
        public async Task<NiosXaasOutcome> CleanAsync(Sandbox sandbox, CancellationToken ct)
        {
            var started = step.Time.GetTimestamp();
            NiosXaasOutcome outcome;
            try
            {
                outcome = await RunAsync(sandbox, step.Settings, ct);
            }
            catch (BrokenCircuitException)
            {
                outcome = new NiosXaasOutcome(NiosXaasOutcome.Failed, [], 0, "the NIOSXaaS circuit is open", CircuitOpen: true);
            }
            catch (NiosXaasException ex)
            {
                outcome = new NiosXaasOutcome(NiosXaasOutcome.Failed, [], 0, ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Best effort by design: whatever else goes wrong here must not stop the account delete or the pass.
                LogUnexpected(step.Logger, ex, sandbox.SandboxId);
                outcome = new NiosXaasOutcome(NiosXaasOutcome.Failed, [], 0, "NIOSXaaS step failed: " + ex.GetType().Name);
            }
            finally
            {
                step.Metrics.NiosXaasCleanupDuration.Observe(step.Time.GetElapsedTime(started).TotalSeconds);
            }

            step.Metrics.NiosXaasCleanupTotal.WithLabels(outcome.Outcome).Inc();
            step.Metrics.NiosXaasServicesDeleted.Inc(outcome.Deleted);
            if (outcome.IsFailure)
            {
                LogFailed(step.Logger, sandbox.SandboxId, outcome.Error ?? "");
            }
            else
            {
                LogDone(step.Logger, sandbox.SandboxId, outcome.Outcome, outcome.Matched.Count, outcome.Deleted);
            }

            return outcome;
        }

        private async Task<NiosXaasOutcome> RunAsync(Sandbox sandbox, NiosXaasOptions settings, CancellationToken ct)
        {
            var accountJwt = await SwitchAsync(sandbox.ExternalId, ct);
            if (accountJwt is null)
            {
                return new NiosXaasOutcome(NiosXaasOutcome.Skipped, [], 0, "NIOSXaaS does not know the account");
            }

            IReadOnlyList<UniversalService> services;
            try
            {
                services = await step.Client.ListServicesAsync(accountJwt, ct);
            }
            catch (NiosXaasException ex) when (ex.Unauthorized)
            {
                accountJwt = await SwitchAsync(sandbox.ExternalId, ct) ?? throw new NiosXaasException("NIOSXaaS no longer knows the account", 404); // the account JWT was refused: renew it once
                services = await step.Client.ListServicesAsync(accountJwt, ct);
            }

            var matched = services.Where(s => settings.ServiceName.Length == 0 || s.Name == settings.ServiceName).ToList();
            var names = matched.Select(s => s.Name).ToList();
            if (matched.Count == 0)
            {
                return new NiosXaasOutcome(NiosXaasOutcome.Skipped, [], 0);
            }

            if (settings.ShadowMode)
            {
                return new NiosXaasOutcome(NiosXaasOutcome.Shadow, names, 0);
            }

            var deleted = 0;
            var renewed = false;
            foreach (var service in matched)
            {
                try
                {
                    await step.Client.DeleteServiceAsync(accountJwt, service.Id, ct);
                }
                catch (NiosXaasException ex) when (ex.Unauthorized && !renewed)
                {
                    renewed = true;
                    accountJwt = await SwitchAsync(sandbox.ExternalId, ct) ?? throw new NiosXaasException("NIOSXaaS no longer knows the account", 404);
                    await step.Client.DeleteServiceAsync(accountJwt, service.Id, ct);
                }

                deleted++;
            }

            return new NiosXaasOutcome(NiosXaasOutcome.Success, names, deleted);
        }

        /// <summary>The account JWT, signing in when the pass has no JWT yet and once more when NIOSXaaS refuses it.</summary>
        private async Task<string?> SwitchAsync(string externalId, CancellationToken ct)
        {
            var signedInNow = false;
            if (rootJwt is null)
            {
                rootJwt = await SignInAsync(ct);
                signedInNow = true;
            }

            try
            {
                return await step.Client.SwitchAsync(rootJwt, externalId, ct);
            }
            catch (NiosXaasException ex) when (ex.Unauthorized && !signedInNow)
            {
                rootJwt = await SignInAsync(ct); // expired: renew once
                return await step.Client.SwitchAsync(rootJwt, externalId, ct);
            }
        }

        private async Task<string> SignInAsync(CancellationToken ct)
        {
            rootJwt = null;
            try
            {
                var jwt = await step.Client.SignInAsync(ct);
                step.Metrics.NiosXaasAuthTotal.WithLabels("success").Inc();
                return jwt;
            }
            catch (NiosXaasException)
            {
                // An open circuit is no sign-in attempt: nothing was sent.
                step.Metrics.NiosXaasAuthTotal.WithLabels("failed").Inc();
                throw;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "NIOSXaaS pre-delete step for sandbox {SandboxId} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string sandboxId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NIOSXaaS pre-delete step failed for sandbox {SandboxId}: {Error}")]
    private static partial void LogFailed(ILogger logger, string sandboxId, string error);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "NIOSXaaS pre-delete step for sandbox {SandboxId}: {Outcome} ({Matched} matching, {Deleted} deleted)")]
    private static partial void LogDone(ILogger logger, string sandboxId, string outcome, int matched, int deleted);
}
