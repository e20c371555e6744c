namespace SandboxBroker.GameDay.Infrastructure;

/// <summary>
/// How big each scenario runs. The normal test run (scripts/test.sh, CI) runs every scenario at the quick size, so
/// each one still asserts its promise; scripts/gameday.sh sets GAMEDAY_FULL=1 for the full size (longer bursts,
/// longer outages, more fuzz). Every loop is bounded by a count and by a deadline either way.
/// </summary>
public static class GameDayScale
{
    public static bool Full { get; } = Environment.GetEnvironmentVariable("GAMEDAY_FULL") is "1" or "true" or "yes";

    public static string Mode => Full ? "full (GAMEDAY_FULL=1)" : "quick (normal test run)";

    public static int Pick(int quick, int full) => Full ? full : quick;

    public static TimeSpan Pick(TimeSpan quick, TimeSpan full) => Full ? full : quick;
}
