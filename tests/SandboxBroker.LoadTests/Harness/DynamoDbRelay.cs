using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SandboxBroker.LoadTests.Harness;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of DynamoDB Local that counts the DynamoDB operations passing through it (the
/// X-Amz-Target header of each HTTP/1.1 request: TransactWriteItems, UpdateItem, Query, ...). The broker process is
/// pointed at the relay, so the count is exactly what the broker sent over the wire, nothing inferred. Requests are
/// parsed only as far as their headers and Content-Length; responses are copied through untouched.
/// </summary>
public sealed class DynamoDbRelay : IAsyncDisposable
{
    /// <summary>Operations that write conditionally (or can): what "conditional writes per allocation" counts.</summary>
    public static readonly string[] WriteOperations = ["TransactWriteItems", "UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem"];

    private readonly TcpListener listener;
    private readonly IPEndPoint upstream;
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<string, long> counts = new(StringComparer.Ordinal);
    private readonly Task acceptLoop;
    private long unparsed;

    public DynamoDbRelay(int upstreamPort)
    {
        upstream = new IPEndPoint(IPAddress.Loopback, upstreamPort);
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(512);
        acceptLoop = AcceptAsync();
    }

    public string ServiceUrl => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

    /// <summary>Requests the relay could not attribute (no Content-Length): they are still relayed, but not counted.</summary>
    public long Unparsed => Interlocked.Read(ref unparsed);

    public Dictionary<string, long> Snapshot() => new(counts, StringComparer.Ordinal);

    public static Dictionary<string, long> Delta(IReadOnlyDictionary<string, long> after, IReadOnlyDictionary<string, long> before) =>
        after.ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key), StringComparer.Ordinal);

    public static long Writes(IReadOnlyDictionary<string, long> delta) => WriteOperations.Sum(delta.GetValueOrDefault);

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(upstream, stop.Token);
            await using var clientStream = new NetworkStream(client, ownsSocket: true);
            await using var serverStream = new NetworkStream(server, ownsSocket: false);
            var responses = serverStream.CopyToAsync(clientStream, stop.Token);
            var requests = ForwardRequestsAsync(clientStream, serverStream, stop.Token);
            await Task.WhenAny(responses, requests);
            client.Close(0);
            server.Close(0);
            await Task.WhenAll(Swallow(responses), Swallow(requests));
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            client.Dispose();
        }
    }

    private static async Task Swallow(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Request after request: read the head, count its target, forward head and Content-Length bytes of body.</summary>
    private async Task ForwardRequestsAsync(Stream from, Stream to, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        while (true)
        {
            var headEnd = IndexOfHeadEnd(buffer, filled);
            while (headEnd < 0)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var read = await from.ReadAsync(buffer.AsMemory(filled), ct);
                if (read == 0)
                {
                    return;
                }

                filled += read;
                headEnd = IndexOfHeadEnd(buffer, filled);
            }

            var head = Encoding.ASCII.GetString(buffer, 0, headEnd);
            var (target, length) = ParseHead(head);
            if (length < 0)
            {
                // Not something we can frame (chunked): relay the rest of this connection as raw bytes, uncounted.
                Interlocked.Increment(ref unparsed);
                await to.WriteAsync(buffer.AsMemory(0, filled), ct);
                await from.CopyToAsync(to, ct);
                return;
            }

            if (target is not null)
            {
                counts.AddOrUpdate(target, 1, (_, n) => n + 1);
            }

            // Forward the head and as much of the body as is buffered, then the rest of the body as it arrives.
            var total = headEnd + 4 + length;
            var inBuffer = Math.Min(total, filled);
            await to.WriteAsync(buffer.AsMemory(0, inBuffer), ct);
            var remaining = total - inBuffer;
            while (remaining > 0)
            {
                var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), ct);
                if (read == 0)
                {
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), ct);
                remaining -= read;
            }

            // Keep bytes of the next request that arrived with this one.
            var leftover = filled - inBuffer;
            if (leftover > 0)
            {
                Buffer.BlockCopy(buffer, inBuffer, buffer, 0, leftover);
            }

            filled = Math.Max(leftover, 0);
        }
    }

    private static int IndexOfHeadEnd(byte[] buffer, int filled) => buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);

    private static (string? Target, int Length) ParseHead(string head)
    {
        string? target = null;
        var length = 0;
        foreach (var line in head.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line.AsSpan(0, colon).Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("X-Amz-Target", StringComparison.OrdinalIgnoreCase))
            {
                var dot = value.LastIndexOf('.');
                target = dot >= 0 ? value[(dot + 1)..] : value;
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                length = -1;
            }
        }

        return (target, length);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await Swallow(acceptLoop);
        stop.Dispose();
    }
}
