using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace SandboxBroker.Cli.Tests.Infrastructure;

/// <summary>
/// A loopback HTTP proxy in front of the broker that forwards every call but holds registration call number
/// <c>holdFromCall</c> (and later ones) without forwarding it: the CLI is then mid-registration, with the earlier
/// batches stored and the held one never seen by the broker, as when an operator's connection or patience ends.
/// </summary>
public sealed class HoldingProxy : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly HttpClient forward;
    private readonly TaskCompletionSource holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int registrations;

    private HoldingProxy(WebApplication app, HttpClient forward, Uri baseAddress)
    {
        this.app = app;
        this.forward = forward;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Completes when the first held call arrived.</summary>
    public Task Holding => holding.Task;

    public static async Task<HoldingProxy> StartAsync(Uri broker, int holdFromCall)
    {
        var port = BrokerProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var proxy = new HoldingProxy(app, new HttpClient { BaseAddress = broker }, new Uri($"http://127.0.0.1:{port}/"));
        app.Run(context => proxy.HandleAsync(context, holdFromCall));
        await app.StartAsync();
        return proxy;
    }

    private async Task HandleAsync(HttpContext context, int holdFromCall)
    {
        var isRegistration = context.Request.Method == "POST" && context.Request.Path.Value!.EndsWith("/admin/sandboxes", StringComparison.Ordinal);
        if (isRegistration && Interlocked.Increment(ref registrations) >= holdFromCall)
        {
            holding.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString);
        if (context.Request.ContentLength > 0 || context.Request.Headers.ContentType.Count > 0)
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            request.Content = new ByteArrayContent(body.ToArray());
            request.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
        }

        request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
        using var response = await forward.SendAsync(request);
        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } type)
        {
            context.Response.ContentType = type.ToString();
        }

        if (response.Headers.TryGetValues("X-Request-ID", out var ids))
        {
            context.Response.Headers["X-Request-ID"] = ids.First();
        }

        await response.Content.CopyToAsync(context.Response.Body);
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(stopping.Token);
        await app.DisposeAsync();
        forward.Dispose();
    }
}
