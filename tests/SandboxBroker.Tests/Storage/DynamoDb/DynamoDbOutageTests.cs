using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>A store that cannot be reached, or that stalls, answers promptly with <see cref="StoreUnavailableException"/> (503).</summary>
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbOutageTests
{
    private static DynamoDbSandboxStore StoreAt(string url, TimeSpan timeout, int retries = 0)
    {
        var options = new DynamoDbStorageOptions { TableName = "SandboxPool", ServiceUrl = url, Timeout = timeout, MaxRetries = retries };
        var client = DynamoDbClientFactory.Create(options, new BasicAWSCredentials("dummy", "dummy"));
        return new DynamoDbSandboxStore(client, options, NullLogger<DynamoDbSandboxStore>.Instance);
    }

    private static ClaimRequest Claim => new()
    {
        SandboxId = "1", Requester = "r", IdempotencyKey = "r", Now = 1, ExpiresAt = 2, LabDurationHours = 1, Cause = TestCause.Setup,
    };

    [Fact]
    public async Task A_refused_connection_is_store_unavailable()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now

        var store = StoreAt($"http://127.0.0.1:{port}", TimeSpan.FromSeconds(2));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetAsync("1", default));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.TryClaimAsync(Claim, default));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.FindAvailableAsync(null, 15, default));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.PingAsync(default));
    }

    [Fact]
    public async Task A_stalled_store_is_store_unavailable_within_the_request_timeout()
    {
        // Accepts connections and never answers: what a paused DynamoDB or a black-holed network looks like.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new List<Socket>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                accepted.Add(await listener.AcceptSocketAsync(stop.Token));
            }
        });
        var store = StoreAt($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", TimeSpan.FromMilliseconds(300), retries: 1);

        var started = Stopwatch.GetTimestamp();
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.TransitionAsync(new StateChange
        { Cause = TestCause.Setup,
            SandboxId = "1", From = SandboxStatus.Allocated, To = SandboxStatus.PendingDeletion, Now = 1,
        }, default));
        var elapsed = Stopwatch.GetElapsedTime(started);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");

        started = Stopwatch.GetTimestamp();
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.PingAsync(default));
        elapsed = Stopwatch.GetElapsedTime(started);
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"readiness ping took {elapsed}");

        await stop.CancelAsync();
        listener.Stop();
        await Assert.ThrowsAnyAsync<Exception>(() => accepting);
        accepted.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task A_cancelled_caller_gets_a_cancellation_not_an_outage()
    {
        var store = StoreAt("http://127.0.0.1:9", TimeSpan.FromSeconds(2));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.GetAsync("1", cancelled.Token));
    }

    [Fact]
    public void The_client_factory_bounds_requests_and_never_needs_the_metadata_endpoint_for_a_local_url()
    {
        var options = new DynamoDbStorageOptions { ServiceUrl = "http://127.0.0.1:8000", Timeout = TimeSpan.FromMilliseconds(1500), MaxRetries = 1 };
        using var local = DynamoDbClientFactory.Create(options, new BasicAWSCredentials("dummy", "dummy"));
        Assert.Equal("http://127.0.0.1:8000/", local.Config.ServiceURL);
        Assert.Equal("us-east-1", local.Config.AuthenticationRegion);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), local.Config.Timeout);
        Assert.Equal(1, local.Config.MaxErrorRetry);

        using var aws = DynamoDbClientFactory.Create(new DynamoDbStorageOptions { Region = "eu-west-1" }, new BasicAWSCredentials("dummy", "dummy"));
        Assert.Equal("eu-west-1", aws.Config.RegionEndpoint?.SystemName);
    }
}
