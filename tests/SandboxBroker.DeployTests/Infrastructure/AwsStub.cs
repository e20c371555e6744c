using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>
/// A stand-in AWS endpoint on 127.0.0.1 for the runbook's AWS CLI commands. A request that arrives here has passed
/// the CLI's own parsing and parameter validation (service, operation, option names, JSON shapes), which is what
/// the tests check. Every call answers a ValidationException, so waiters stop at once, except DynamoDB Scan: it
/// lists sandbox ids (one in a table, two in a "-restored-" copy) so the runbook's reconcile loop reaches its
/// update-item calls.
/// </summary>
internal sealed class AwsStub : IAsyncDisposable
{
    public const string Marker = "runbook stand-in";

    private readonly WebApplication app;
    private readonly ConcurrentQueue<string> operations = new();

    private AwsStub(WebApplication app) => this.app = app;

    public string Url { get; private set; } = "";

    /// <summary>The X-Amz-Target of every request ("DynamoDB_20120810.Scan", "AmazonEC2ContainerServiceV20141113.UpdateService").</summary>
    public IReadOnlyList<string> Operations => [.. operations];

    public static async Task<AwsStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var stub = new AwsStub(builder.Build());
        stub.app.Run(stub.AnswerAsync);
        await stub.app.StartAsync();
        stub.Url = stub.app.Urls.First();
        return stub;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        operations.Enqueue(target.Length > 0 ? target : $"{context.Request.Method} {context.Request.Path}");
        context.Response.ContentType = "application/x-amz-json-1.0";
        if (target == "DynamoDB_20120810.Scan")
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            var table = body.RootElement.GetProperty("TableName").GetString() ?? "";
            string[] ids = table.Contains("-restored-", StringComparison.Ordinal) ? ["2026901", "2026902"] : ["2026901"];
            // Property names as DynamoDB spells them (the web JSON defaults would camel-case them).
            var items = ids.Select(id => new Dictionary<string, object> { ["sandbox_id"] = new Dictionary<string, string> { ["S"] = id } }).ToList();
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object> { ["Items"] = items, ["Count"] = ids.Length, ["ScannedCount"] = ids.Length });
            return;
        }

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["__type"] = "com.amazonaws#ValidationException", ["message"] = Marker });
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
