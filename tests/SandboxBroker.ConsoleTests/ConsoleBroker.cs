using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace SandboxBroker.ConsoleTests;

/// <summary>
/// One broker process for the console scenarios: SQLite in a temporary folder, simulated CSP (its start-up sync fills
/// the pool with sim-sandbox-* records), jobs on long intervals so nothing moves under the browser, plus a second
/// sub-pool registered through the admin API and a few participants' allocations made through the track API.
/// </summary>
public sealed class ConsoleBroker : IAsyncLifetime
{
    public const string AdminToken = "console-admin-token-for-tests";
    public const string TrackToken = "console-track-token-for-tests";

    private readonly string folder = Path.Combine(Path.GetTempPath(), "sandboxbroker-console-" + Guid.NewGuid().ToString("N"));
    private BrokerProcess? broker;

    public BrokerProcess Broker => broker ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(folder);
        broker = BrokerProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Broker__AdminTokens__0"] = AdminToken,
            ["Broker__TrackTokens__0"] = TrackToken,
            ["Storage__Provider"] = "Sqlite",
            ["Storage__Sqlite__Path"] = Path.Combine(folder, "broker.db"),
            ["Jobs__Cleanup__Interval"] = "01:00:00",
            ["Jobs__Expiry__Interval"] = "01:00:00",
            ["Jobs__Sync__Interval"] = "01:00:00",
            ["Jobs__StalePurge__Interval"] = "01:00:00",
        });
        Assert.True(await Broker.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), "broker not ready:\n" + Broker.Output);
        await SeedAsync();
    }

    private async Task SeedAsync()
    {
        using var client = new HttpClient { BaseAddress = Broker.BaseAddress };
        using (var register = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/sandboxes"))
        {
            register.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
            register.Content = JsonContent.Create(new
            {
                sandboxes = Enumerable.Range(1, 6).Select(i => new
                {
                    sandbox_id = (900_000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    name = $"dns-lab-{i:000}",
                    external_id = $"identity/accounts/dns-{i}",
                }),
            });
            (await client.SendAsync(register)).EnsureSuccessStatusCode();
        }

        var alice = await AllocateAsync(client, "student-alice", "lab-101");
        await TrackPostAsync(client, $"/v1/sandboxes/{alice}/mark-for-deletion", "student-alice", "lab-101");
        await AllocateAsync(client, "student-bob", "lab-101");
        await AllocateAsync(client, "student-carol", "lab-202");
    }

    private static async Task<string> AllocateAsync(HttpClient client, string requester, string lab)
    {
        using var response = await TrackPostAsync(client, "/v1/allocate", requester, lab);
        var body = await response.Content.ReadFromJsonAsync<Dictionary<string, object>>();
        return body!["sandbox_id"].ToString()!;
    }

    private static async Task<HttpResponseMessage> TrackPostAsync(HttpClient client, string path, string requester, string lab)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TrackToken);
        request.Headers.Add("X-Instruqt-Sandbox-ID", requester);
        request.Headers.Add("X-Instruqt-Track-ID", lab);
        var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{path} for {requester}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    public async Task DisposeAsync()
    {
        if (broker is not null)
        {
            await broker.DisposeAsync();
        }

        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless; the OS cleans it.
        }
    }
}
