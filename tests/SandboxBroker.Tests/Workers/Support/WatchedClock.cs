using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace SandboxBroker.Tests.Workers.Support;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also tells which timers were asked of it (by due time), so a test can wait
/// until the code under test is parked on a delay before it moves the clock past that delay.
/// </summary>
internal sealed class WatchedClock(FakeTimeProvider fake) : TimeProvider
{
    private readonly ConcurrentQueue<TimeSpan> dueTimes = new();

    public FakeTimeProvider Fake { get; } = fake;

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        dueTimes.Enqueue(dueTime);
        return Fake.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Waits (on the real clock, up to <paramref name="limit"/>) until a timer due in <paramref name="dueTime"/> was created.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!dueTimes.Contains(dueTime))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no timer due in {dueTime} was created within {limit}");
            await Task.Delay(20);
        }
    }
}
