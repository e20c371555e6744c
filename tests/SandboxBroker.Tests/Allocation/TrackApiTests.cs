using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Allocation;

/// <summary>The track API through a real host, as the lab scripts call it.</summary>
public sealed class TrackApiTests : IAsyncLifetime
{
    private static readonly string[] TrackFields =
        ["sandbox_id", "name", "external_id", "status", "allocated_to_track", "track_name", "allocated_at", "expires_at", "sfdc_account_id"];

    private readonly BrokerFactory broker = new();
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        client = broker.TrackClient();
        await broker.Get<SyncService>().RunOnceAsync(default); // fill the simulated pool (20)
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await broker.DisposeAsync();
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? requester, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, path);
        if (requester is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Instruqt-Sandbox-ID", requester);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return client.SendAsync(request);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task Allocate_answers_201_with_every_field_then_200_with_the_same_sandbox()
    {
        using var first = await SendAsync(HttpMethod.Post, "/v1/allocate", "s1", ("X-Instruqt-Track-ID", "lab-a"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var body = await JsonAsync(first);
        foreach (var field in TrackFields)
        {
            Assert.True(body.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null, $"missing {field}");
        }

        Assert.Equal(JsonValueKind.String, body.GetProperty("sandbox_id").ValueKind);
        Assert.Equal("allocated", body.GetProperty("status").GetString());
        Assert.Equal("s1", body.GetProperty("allocated_to_track").GetString());
        Assert.Equal("lab-a", body.GetProperty("track_name").GetString());
        Assert.Equal(4 * 3600, body.GetProperty("expires_at").GetInt64() - body.GetProperty("allocated_at").GetInt64());
        var id = body.GetProperty("sandbox_id").GetString();
        Assert.Equal($"/v1/sandboxes/{id}", first.Headers.Location!.ToString());
        Assert.True(first.Headers.Contains("X-Request-ID"));

        using var replay = await SendAsync(HttpMethod.Post, "/v1/allocate", "s1");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(id, (await JsonAsync(replay)).GetProperty("sandbox_id").GetString());
    }

    [Fact]
    public async Task The_legacy_track_header_and_an_empty_json_body_work()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate") { Content = new StringContent("", null, "application/json") };
        request.Headers.Add("X-Track-ID", "legacy-1");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.Equal("legacy-1", body.GetProperty("allocated_to_track").GetString());
        Assert.Equal("", body.GetProperty("track_name").GetString());
    }

    [Fact]
    public async Task The_holder_reads_and_releases_and_others_are_refused()
    {
        using var allocated = await SendAsync(HttpMethod.Post, "/v1/allocate", "holder");
        var id = (await JsonAsync(allocated)).GetProperty("sandbox_id").GetString();

        using var get = await SendAsync(HttpMethod.Get, $"/v1/sandboxes/{id}", "holder");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using var otherGet = await SendAsync(HttpMethod.Get, $"/v1/sandboxes/{id}", "intruder");
        Assert.Equal(HttpStatusCode.Forbidden, otherGet.StatusCode);
        Assert.Equal("NOT_SANDBOX_OWNER", (await JsonAsync(otherGet)).GetProperty("code").GetString());
        using var otherMark = await SendAsync(HttpMethod.Post, $"/v1/sandboxes/{id}/mark-for-deletion", "intruder");
        Assert.Equal(HttpStatusCode.Forbidden, otherMark.StatusCode);

        using var mark = await SendAsync(HttpMethod.Post, $"/v1/sandboxes/{id}/mark-for-deletion", "holder");
        Assert.Equal(HttpStatusCode.OK, mark.StatusCode);
        var marked = await JsonAsync(mark);
        Assert.Equal("pending_deletion", marked.GetProperty("status").GetString());
        Assert.True(marked.GetProperty("deletion_requested_at").GetInt64() > 0);
        using var again = await SendAsync(HttpMethod.Post, $"/v1/sandboxes/{id}/mark-for-deletion", "holder");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var afterGet = await SendAsync(HttpMethod.Get, $"/v1/sandboxes/{id}", "holder");
        Assert.Equal("pending_deletion", (await JsonAsync(afterGet)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_ids_are_404_problems()
    {
        using var get = await SendAsync(HttpMethod.Get, "/v1/sandboxes/no-such-id", "s1");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal("application/problem+json", get.Content.Headers.ContentType!.MediaType);
        Assert.Equal("SANDBOX_NOT_FOUND", (await JsonAsync(get)).GetProperty("code").GetString());
        using var mark = await SendAsync(HttpMethod.Post, "/v1/sandboxes/no-such-id/mark-for-deletion", "s1");
        Assert.Equal(HttpStatusCode.NotFound, mark.StatusCode);
    }

    [Fact]
    public async Task Missing_or_wrong_tokens_are_401_and_the_admin_token_is_403()
    {
        using var anonymous = broker.AnonymousClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate");
        request.Headers.Add("X-Instruqt-Sandbox-ID", "s3");
        using var none = await anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("UNAUTHORIZED", (await JsonAsync(none)).GetProperty("code").GetString());

        using var wrong = await SendAsync(HttpMethod.Post, "/v1/allocate", "s3", ("Authorization", "Bearer not-a-token"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        using var admin = broker.AdminClient();
        var adminRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate");
        adminRequest.Headers.Add("X-Instruqt-Sandbox-ID", "s3");
        using var forbidden = await admin.SendAsync(adminRequest);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("FORBIDDEN", (await JsonAsync(forbidden)).GetProperty("code").GetString());
    }

    [Theory]
    [InlineData(null, "MISSING_SANDBOX_ID")]
    [InlineData("with space", "VALIDATION_ERROR")]
    [InlineData("a\tb", "VALIDATION_ERROR")]
    public async Task Bad_requester_ids_are_400_problems(string? requester, string code)
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/allocate", requester);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var body = await JsonAsync(response);
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("request_id").GetString()));
    }

    [Fact]
    public async Task A_300_character_requester_id_is_a_400_and_changes_nothing()
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/allocate", new string('x', 300));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("VALIDATION_ERROR", (await JsonAsync(response)).GetProperty("code").GetString());
        Assert.Equal(0, (await broker.Get<SandboxBroker.Api.Storage.ISandboxStore>().CountAsync(null, default)).Allocated);
    }

    [Theory]
    [InlineData("X-Sandbox-Name-Prefix", "this-prefix-is-far-too-long-for-the-sixty-four-character-limit-of-the-api")]
    [InlineData("Idempotency-Key", "has space")]
    [InlineData("X-Instruqt-Track-ID", "tab\there")]
    public async Task Malformed_optional_headers_are_400(string header, string value)
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/allocate", "ok-requester", (header, value));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_empty_sub_pool_is_409_no_sandboxes_available()
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/allocate", "p1", ("X-Sandbox-Name-Prefix", "no-such-pool"));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("NO_SANDBOXES_AVAILABLE", (await JsonAsync(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_request_id_from_the_caller_is_echoed_and_a_hostile_one_replaced()
    {
        using var sane = await SendAsync(HttpMethod.Get, "/v1/sandboxes/x", "s1", ("X-Request-ID", "trace-123"));
        Assert.Equal("trace-123", sane.Headers.GetValues("X-Request-ID").Single());
        Assert.Equal("trace-123", (await JsonAsync(sane)).GetProperty("request_id").GetString());
        using var hostile = await SendAsync(HttpMethod.Get, "/v1/sandboxes/x", "s1", ("X-Request-ID", "<script>"));
        Assert.NotEqual("<script>", hostile.Headers.GetValues("X-Request-ID").Single());
    }

    [Fact]
    public async Task Probes_docs_and_openapi_answer()
    {
        using var anonymous = broker.AnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
        var root = await anonymous.GetFromJsonAsync<JsonElement>("/");
        Assert.Equal("/v1/docs", root.GetProperty("docs").GetString());
        var openApi = await anonymous.GetFromJsonAsync<JsonElement>("/v1/openapi.json");
        Assert.True(openApi.GetProperty("paths").EnumerateObject().Count() >= 3);
        using var docs = await anonymous.GetAsync("/v1/docs");
        var html = docs.StatusCode == HttpStatusCode.OK ? docs
            : await anonymous.GetAsync(new Uri(new Uri(anonymous.BaseAddress!, "/v1/docs"), docs.Headers.Location!));
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
    }
}
