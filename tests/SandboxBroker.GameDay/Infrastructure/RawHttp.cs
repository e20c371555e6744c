using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace SandboxBroker.GameDay.Infrastructure;

/// <summary>
/// An HTTP/1.1 request as bytes: hostile input that HttpClient refuses to send (control characters and invalid UTF-8 in
/// headers, raw bytes in the path, duplicate headers, malformed framing). Strings are sent as Latin-1, one byte per
/// char, so "\u00ff" is the byte 0xFF; <see cref="Utf8"/> turns text into its UTF-8 bytes in that form.
/// </summary>
public sealed record RawRequest(string What, string Method, string Target)
{
    public List<(string Name, string Value)> Headers { get; init; } = [];

    public byte[]? Body { get; init; }

    /// <summary>Send Content-Length for the body (else the body is sent as it is, e.g. already chunked).</summary>
    public bool ContentLength { get; init; } = true;

    /// <summary>An oversized body: the server may close the connection before the client finished sending it.</summary>
    public bool MayCloseEarly { get; init; }

    public static string Utf8(string text) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));

    public RawRequest With(string name, string value) => this with { Headers = [.. Headers, (name, value)] };

    public byte[] Encode(string host)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{Method} {Target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        foreach (var (name, value) in Headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (Body is not null && ContentLength)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {Body.Length}\r\n");
        }

        head.Append("\r\n");
        return Encoding.Latin1.GetBytes(head.ToString());
    }
}

public static class RawHttp
{
    private const int MaxResponseBytes = 2 * 1024 * 1024;

    /// <summary>Sends the request on a fresh connection and reads the whole answer (the server closes after it).</summary>
    public static async Task<Answer> SendAsync(Uri baseAddress, RawRequest request, Func<double> now, TimeSpan timeout, CancellationToken ct)
    {
        var started = now();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        using var tcp = new TcpClient { NoDelay = true };
        var received = new MemoryStream();
        var wroteAll = false;
        string? error = null;
        try
        {
            await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port, limit.Token);
            var stream = tcp.GetStream();
            var writing = WriteAsync(stream, request.Encode($"{baseAddress.Host}:{baseAddress.Port}"), request.Body, limit.Token);
            var reading = ReadAsync(stream, received, limit.Token);
            try
            {
                await writing;        // no half-close after it: Kestrel takes a FIN as the client going away
                wroteAll = true;
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                error = "the server closed the connection while the request was sent";
            }

            await reading;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"no complete answer within {timeout.TotalSeconds:0.#} s";
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            error ??= ex.Message;
        }

        var ended = now();
        var bytes = received.ToArray();
        if (!TryParse(bytes, out var status, out var headers, out var body))
        {
            var reason = error ?? (bytes.Length == 0 ? "the connection closed without an answer" : "an unparseable answer");
            var allowed = request.MayCloseEarly && !wroteAll;
            return new Answer(request.What, allowed ? 499 : 0, "", new Dictionary<string, string>(), started, ended, reason);
        }

        return new Answer(request.What, status, body, headers, started, ended, error);
    }

    private static async Task WriteAsync(NetworkStream stream, byte[] head, byte[]? body, CancellationToken ct)
    {
        await stream.WriteAsync(head, ct);
        if (body is not null)
        {
            for (var offset = 0; offset < body.Length; offset += 64 * 1024)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(64 * 1024, body.Length - offset)), ct);
            }
        }
    }

    private static async Task ReadAsync(NetworkStream stream, MemoryStream into, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, ct)) > 0 && into.Length < MaxResponseBytes)
            {
                into.Write(buffer, 0, n);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException && into.Length > 0)
        {
            // a reset after the answer arrived: keep what was read
        }
    }

    private static bool TryParse(byte[] bytes, out int status, out Dictionary<string, string> headers, out string body)
    {
        status = 0;
        headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        body = "";
        var text = Encoding.Latin1.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0 || !text.StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return false;
        }

        var lines = text[..end].Split("\r\n");
        var parts = lines[0].Split(' ', 3);
        if (parts.Length < 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out status))
        {
            return false;
        }

        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                headers[name] = headers.TryGetValue(name, out var previous) ? previous + ", " + value : value;
            }
        }

        var raw = bytes.AsSpan(Encoding.Latin1.GetByteCount(text[..(end + 4)]));
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            raw = Dechunk(raw.ToArray());
        }
        else if (headers.TryGetValue("Content-Length", out var length) && int.TryParse(length, CultureInfo.InvariantCulture, out var n) && n <= raw.Length)
        {
            raw = raw[..n];
        }

        body = Encoding.UTF8.GetString(raw);
        return true;
    }

    private static byte[] Dechunk(byte[] chunked)
    {
        var output = new MemoryStream();
        var position = 0;
        while (position < chunked.Length)
        {
            var lineEnd = Array.IndexOf(chunked, (byte)'\n', position);
            if (lineEnd < 0)
            {
                break;
            }

            var sizeText = Encoding.ASCII.GetString(chunked, position, lineEnd - position).Trim().Split(';')[0];
            if (!int.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size == 0)
            {
                break;
            }

            position = lineEnd + 1;
            output.Write(chunked, position, Math.Min(size, chunked.Length - position));
            position += size + 2;
        }

        return output.ToArray();
    }
}
