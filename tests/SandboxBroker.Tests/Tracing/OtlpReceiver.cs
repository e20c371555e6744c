using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace SandboxBroker.Tests.Tracing;

/// <summary>One span as an OTLP receiver sees it (ids in lowercase hex, as log lines write them).</summary>
public sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind)
{
    public const int Server = 2;
    public const int Client = 3;
}

/// <summary>
/// An OTLP/HTTP trace receiver on 127.0.0.1 (POST /v1/traces, protobuf): decodes just enough of
/// ExportTraceServiceRequest (resource_spans → scope_spans → spans: ids, parent, name, kind) to check what arrived.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly ConcurrentQueue<ReceivedSpan> spans = new();
    private readonly Task loop;

    public OtlpReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(BaseAddress.ToString());
        listener.Start();
        loop = Task.Run(ReceiveAsync);
    }

    public Uri BaseAddress { get; }

    /// <summary>Each span once: an exporter that retries a send it thinks failed sends the same spans again.</summary>
    public IReadOnlyList<ReceivedSpan> Spans => [.. spans.DistinctBy(s => s.SpanId)];

    public int Requests { get; private set; }

    private async Task ReceiveAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                Requests++;
                foreach (var resourceSpans in Fields(body.ToArray(), 1))
                {
                    foreach (var scopeSpans in Fields(resourceSpans, 2))
                    {
                        foreach (var span in Fields(scopeSpans, 2))
                        {
                            spans.Enqueue(Decode(span));
                        }
                    }
                }
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    private static ReceivedSpan Decode(byte[] span)
    {
        string Hex(int field) => Convert.ToHexStringLower(Fields(span, field).FirstOrDefault() ?? []);
        var name = System.Text.Encoding.UTF8.GetString(Fields(span, 5).FirstOrDefault() ?? []);
        var kind = (int)Varints(span, 6).FirstOrDefault();
        return new ReceivedSpan(Hex(1), Hex(2), Hex(4), name, kind);
    }

    /// <summary>The length-delimited values of one field number of a protobuf message.</summary>
    private static IEnumerable<byte[]> Fields(byte[] message, int number) =>
        Walk(message).Where(f => f.Number == number && f.Bytes is not null).Select(f => f.Bytes!);

    private static IEnumerable<ulong> Varints(byte[] message, int number) =>
        Walk(message).Where(f => f.Number == number && f.Bytes is null).Select(f => f.Value);

    private static List<(int Number, byte[]? Bytes, ulong Value)> Walk(byte[] message)
    {
        var fields = new List<(int, byte[]?, ulong)>();
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message, ref position);
            var number = (int)(key >> 3);
            switch (key & 7)
            {
                case 0:
                    fields.Add((number, null, ReadVarint(message, ref position)));
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    fields.Add((number, message[position..(position + length)], 0));
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {key & 7} at {position}");
            }
        }

        return fields;
    }

    private static ulong ReadVarint(byte[] buffer, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = buffer[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    public void Dispose()
    {
        listener.Close();
        loop.Wait(TimeSpan.FromSeconds(5));
    }
}
