using System.Net;
using System.Net.Sockets;
using System.Text;
using SandboxBroker.Testing;

namespace SandboxBroker.Tests.Edge;

/// <summary>
/// HEAD answers wherever GET does, on a real Kestrel process: the GET's status and headers, no body on the wire,
/// the same authentication, and a log line that says HEAD.
/// </summary>
public sealed class HeadRequestTests
{
    private const string Track = "head-track-token-0123456789abcdef";
    private const string Admin = "head-admin-token-0123456789abcdef";

    [Fact]
    public async Task Head_answers_every_get_with_its_status_and_headers_and_no_body()
    {
        var directory = Path.Combine(Path.GetTempPath(), "sbx-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        await using var broker = BrokerProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["BROKER_API_TOKEN"] = Track,
            ["BROKER_ADMIN_TOKEN"] = Admin,
            ["Csp__Mode"] = "Simulated",
            ["Storage__Sqlite__Path"] = Path.Combine(directory, "broker.db"),
        });
        Assert.True(await broker.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), broker.Output);

        var probes = new (string Path, string? Token, HttpStatusCode Expected)[]
        {
            ("/healthz", null, HttpStatusCode.OK),
            ("/readyz", null, HttpStatusCode.OK),
            ("/metrics", null, HttpStatusCode.OK),
            ("/v1/admin/stats", Admin, HttpStatusCode.OK),
            ("/v1/admin/sandboxes?limit=2", Admin, HttpStatusCode.OK),
            ("/v1/admin/jobs", Admin, HttpStatusCode.OK),
            ("/v1/admin/stats", null, HttpStatusCode.Unauthorized),
            ("/v1/admin/stats", Track, HttpStatusCode.Forbidden),
            ("/v1/no-such-thing", null, HttpStatusCode.NotFound),
        };
        foreach (var (path, token, expected) in probes)
        {
            var get = await RawAsync(broker.Port, "GET", path, token);
            var head = await RawAsync(broker.Port, "HEAD", path, token);
            Assert.Equal(expected, get.Status);
            Assert.True(head.Status == get.Status, $"HEAD {path}: {head.Status}, GET: {get.Status}");
            Assert.Equal(get.ContentType, head.ContentType);
            Assert.True(get.Body.Length > 0, $"GET {path} sent no body");
            Assert.True(head.Body.Length == 0, $"HEAD {path} sent a body: {head.Body}");
        }

        for (var i = 0; i < 50 && !broker.Output.Contains("\"RequestMethod\":\"HEAD\"", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains("\"action\":\"HEAD /v1/admin/stats\"", broker.Output, StringComparison.Ordinal);
    }

    /// <summary>One request on its own connection, read to the end, so the test sees exactly what was sent.</summary>
    private static async Task<(HttpStatusCode Status, string? ContentType, string Body)> RawAsync(int port, string method, string path, string? token)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var stream = tcp.GetStream();
        var request = new StringBuilder()
            .Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if (token is not null)
        {
            request.Append("Authorization: Bearer ").Append(token).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString()));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync(cancel.Token);
        var split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, $"{method} {path}: no header block in {response}");
        var headers = response[..split].Split("\r\n");
        var status = (HttpStatusCode)int.Parse(headers[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var contentType = headers.Skip(1).Select(h => h.Split(':', 2)).Where(h => h[0].Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            .Select(h => h[1].Trim()).FirstOrDefault();
        return (status, contentType, response[(split + 4)..]);
    }
}
