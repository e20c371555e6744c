using System.Net;
using System.Text.Json;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>GET /admin/sandboxes/{id}: every field, null when absent; tombstones and unknown ids are 404.</summary>
public sealed class AdminSandboxViewTests : IAsyncLifetime
{
    private static readonly string[] EveryField =
    [
        "sandbox_id", "name", "external_id", "status", "allocated_to_track", "allocated_at", "idempotency_key", "track_name",
        "expires_at", "lab_duration_hours", "deletion_requested_at", "deletion_retry_count", "last_error", "next_attempt_at",
        "last_synced", "created_at", "updated_at", "sfdc_account_id", "deleted_at", "allocated_via",
        "deletion_verified_at", "niosxaas_cleaned_at", "niosxaas_cleanup_skipped", "niosxaas_cleanup_failed_reason",
    ];

    private readonly Infrastructure.BrokerFactory broker = EmptyBroker().With("Broker:LabDuration", "02:00:00");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task An_allocated_sandbox_shows_every_field()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "v-1");
        await AllocateAsync(broker, "participant-7", track: "lab-dns");

        var body = await GetOkAsync(admin, "/v1/admin/sandboxes/v-1");
        Assert.Equal(EveryField.Order(StringComparer.Ordinal), body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(("allocated", "participant-7", "participant-7", "lab-dns"), (body.GetProperty("status").GetString(),
            body.GetProperty("allocated_to_track").GetString(), body.GetProperty("idempotency_key").GetString(), body.GetProperty("track_name").GetString()));
        Assert.Equal("track-1", body.GetProperty("allocated_via").GetString()); // the allocating token's name, never its secret
        Assert.Equal(2 * 3600, body.GetProperty("expires_at").GetInt64() - body.GetProperty("allocated_at").GetInt64());
        Assert.Equal(2.0, body.GetProperty("lab_duration_hours").GetDouble());
        foreach (var absent in new[] { "deletion_requested_at", "last_error", "next_attempt_at", "deleted_at", "sfdc_account_id",
                     "deletion_verified_at", "niosxaas_cleaned_at", "niosxaas_cleanup_failed_reason" })
        {
            Assert.Equal(JsonValueKind.Null, body.GetProperty(absent).ValueKind);
        }
    }

    [Fact]
    public async Task A_failed_deletion_shows_its_error_and_attempts()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "v-2");
        await AllocateAsync(broker, "p");
        await PostOkAsync(admin, "/v1/admin/sandboxes/v-2/release");
        await MoveAsync(broker, "v-2", SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, "CSP 503 after 5 attempts");

        var body = await GetOkAsync(admin, "/v1/admin/sandboxes/v-2");
        Assert.Equal(("deletion_failed", "CSP 503 after 5 attempts", 5), (body.GetProperty("status").GetString(),
            body.GetProperty("last_error").GetString(), body.GetProperty("deletion_retry_count").GetInt32()));
        Assert.True(body.GetProperty("deletion_requested_at").GetInt64() > 0);
    }

    [Fact]
    public async Task A_tombstone_an_unknown_id_and_an_invalid_id_are_refused()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "v-3");
        await MoveAsync(broker, "v-3", SandboxStatus.Available, SandboxStatus.Stale);
        await MoveAsync(broker, "v-3", SandboxStatus.Stale, SandboxStatus.Deleted);

        foreach (var id in new[] { "v-3", "unknown" })
        {
            using var response = await admin.GetAsync($"/v1/admin/sandboxes/{id}");
            await AssertProblemAsync(response, HttpStatusCode.NotFound, "SANDBOX_NOT_FOUND");
        }

        using var invalid = await admin.GetAsync("/v1/admin/sandboxes/" + new string('x', 129));
        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
    }

    [Fact]
    public async Task Every_admin_endpoint_is_documented_in_the_openapi_document()
    {
        using var client = broker.AnonymousClient();
        var doc = await GetOkAsync(client, "/v1/openapi.json");
        var operations = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => (Path: p.Name, Method: m.Name, Op: m.Value)))
            .Where(o => o.Path.StartsWith("/v1/admin/", StringComparison.Ordinal))
            .ToDictionary(o => $"{o.Method.ToUpperInvariant()} {o.Path}", o => o.Op);
        foreach (var (key, operationId) in new[]
        {
            ("GET /v1/admin/sandboxes", "AdminListSandboxes"), ("POST /v1/admin/sandboxes", "AdminRegisterSandboxes"),
            ("GET /v1/admin/sandboxes/{sandboxId}", "AdminGetSandbox"), ("GET /v1/admin/stats", "AdminStats"),
            ("POST /v1/admin/bulk-delete", "AdminBulkDelete"), ("POST /v1/admin/retry-deletion", "AdminRetryAllDeletions"),
            ("POST /v1/admin/sandboxes/{sandboxId}/release", "AdminReleaseSandbox"),
            ("POST /v1/admin/sandboxes/{sandboxId}/retry-deletion", "AdminRetryDeletion"),
        })
        {
            Assert.True(operations.TryGetValue(key, out var op), $"{key} is not in the OpenAPI document");
            Assert.Equal(operationId, op.GetProperty("operationId").GetString());
            Assert.False(string.IsNullOrEmpty(op.GetProperty("summary").GetString()));
            Assert.False(string.IsNullOrEmpty(op.GetProperty("description").GetString()));
            Assert.True(op.GetProperty("responses").TryGetProperty("200", out _), $"{key} documents no 200");
            Assert.True(op.GetProperty("responses").TryGetProperty("403", out _), $"{key} documents no 403");
        }
    }
}
