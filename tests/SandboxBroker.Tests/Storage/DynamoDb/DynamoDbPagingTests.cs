using System.Globalization;
using System.Text;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>Cursors on every access path (Scan, StatusIndex, TrackIndex), with filters that thin out pages.</summary>
[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbPagingTests(DynamoDbLocalFixture dynamo)
{
    private const long Now = 1_800_000_000;

    private static async Task<List<string>> PageAllAsync(DynamoDbSandboxStore store, SandboxQuery query)
    {
        var seen = new List<string>();
        string? after = null;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = await store.ListAsync(query with { After = after }, default);
            Assert.True(page.Items.Count <= query.Limit);
            seen.AddRange(page.Items.Select(s => s.SandboxId));
            if (page.Next is null)
            {
                return seen;
            }

            Assert.NotEmpty(page.Items);
            after = page.Next;
        }

        throw new Xunit.Sdk.XunitException("paging did not end");
    }

    private async Task<DynamoDbSandboxStore> MixedPoolAsync(string? table = null)
    {
        var store = await dynamo.CreateStoreAsync(table);
        await Parallel.ForEachAsync(Enumerable.Range(1, 250), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var id = i.ToString("D4", CultureInfo.InvariantCulture);
            await store.RegisterAsync(new UpstreamSandbox(id, (i % 3 == 0 ? "red-" : "blue-") + id, "identity/accounts/" + id, Now, null), Now, TestCause.Setup, ct);
            if (i % 2 == 0)
            {
                // Allocated at different times, so StatusIndex/TrackIndex pages cross allocated_at values.
                await store.TryClaimAsync(new ClaimRequest
                { Cause = TestCause.Setup,
                    SandboxId = id, Requester = i % 4 == 0 ? "alice" : "user-" + id, IdempotencyKey = id, Now = Now + i,
                    ExpiresAt = Now + i + 3600, LabDurationHours = 1,
                }, ct);
            }
        });
        return store;
    }

    [Fact]
    public async Task Every_access_path_pages_through_each_item_exactly_once()
    {
        var store = await MixedPoolAsync();
        var cases = new (SandboxQuery Query, int Expected)[]
        {
            (new SandboxQuery { Limit = 100 }, 250),
            (new SandboxQuery { Limit = 7 }, 250),
            (new SandboxQuery { Limit = 10, NamePrefix = "red" }, 83),
            (new SandboxQuery { Limit = 20, Status = SandboxStatus.Allocated }, 125),
            (new SandboxQuery { Limit = 9, Status = SandboxStatus.Available, NamePrefix = "red" }, 42),
            (new SandboxQuery { Limit = 11, Requester = "alice" }, 62),
            (new SandboxQuery { Limit = 5, Status = SandboxStatus.Allocated, Requester = "alice", NamePrefix = "red" }, 20),
        };
        foreach (var (query, expected) in cases)
        {
            var seen = await PageAllAsync(store, query);
            Assert.True(expected == seen.Count, $"{query}: {seen.Count} items, expected {expected}");
            Assert.Equal(seen.Count, seen.Distinct().Count());
        }
    }

    [Fact]
    public async Task A_cursor_that_was_garbled_forged_or_issued_for_other_filters_is_refused()
    {
        var table = dynamo.Options().TableName;
        var store = await MixedPoolAsync(table);
        var page = await store.ListAsync(new SandboxQuery { Limit = 10, Status = SandboxStatus.Allocated }, default);
        var cursor = Assert.IsType<string>(page.Next);
        // Another replica (another store instance on the table) continues the same query from the cursor.
        var replica = await dynamo.CreateStoreAsync(table);
        var next = await replica.ListAsync(new SandboxQuery { Limit = 10, Status = SandboxStatus.Allocated, After = cursor }, default);
        Assert.Equal(10, next.Items.Count);
        Assert.Empty(next.Items.Select(s => s.SandboxId).Intersect(page.Items.Select(s => s.SandboxId)));

        var json = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(cursor));
        string Forge(string from, string to) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.Replace(from, to, StringComparison.Ordinal)));
        var bad = new[]
        {
            "not-a-cursor", cursor[..^3], "", "eyJ2IjoxfQ", // garbled, truncated, empty, {"v":1}
            Forge("\"s:allocated\"", "\"s:available\""),      // key of another status
            Forge("\"s:SBX#", "\"s:IDEM#"),                   // not a sandbox key
            Forge("\"n:", "\"s:"),                            // wrong type
        };
        foreach (var token in bad)
        {
            await Assert.ThrowsAsync<InvalidCursorException>(() =>
                store.ListAsync(new SandboxQuery { Limit = 10, Status = SandboxStatus.Allocated, After = token }, default));
        }

        foreach (var other in new[]
        {
            new SandboxQuery { Limit = 10, Status = SandboxStatus.Available },
            new SandboxQuery { Limit = 10, Status = SandboxStatus.Allocated, NamePrefix = "red" },
            new SandboxQuery { Limit = 10 },
            new SandboxQuery { Limit = 10, Requester = "alice" },
        })
        {
            await Assert.ThrowsAsync<InvalidCursorException>(() => store.ListAsync(other with { After = cursor }, default));
        }

        // Another page size is fine: the cursor is a position, not a page number.
        Assert.Equal(10, (await store.ListAsync(new SandboxQuery { Limit = 10, Status = SandboxStatus.Allocated, After = cursor }, default)).Items.Count);
        Assert.Equal(3, (await store.ListAsync(new SandboxQuery { Limit = 3, Status = SandboxStatus.Allocated, After = cursor }, default)).Items.Count);
    }
}
