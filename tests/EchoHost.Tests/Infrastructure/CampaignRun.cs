namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// The reliability campaign's sizes. <c>dotnet test</c> (and CI) runs the short versions; the long ones, the sizes
/// docs/hardening.md quotes, run with <c>ECHOHOST_CAMPAIGN=long dotnet test --filter Category=Campaign</c>.
/// </summary>
internal static class CampaignRun
{
    public const string Category = "Campaign";

    public static bool Long { get; } = string.Equals(Environment.GetEnvironmentVariable("ECHOHOST_CAMPAIGN"), "long", StringComparison.OrdinalIgnoreCase);

    /// <summary><paramref name="shortSize"/> normally, <paramref name="longSize"/> in a long campaign run.</summary>
    public static int Size(int shortSize, int longSize) => Long ? longSize : shortSize;

    /// <summary>The fixed seed every random campaign input comes from, so a failure reproduces; override with ECHOHOST_SEED.</summary>
    public static int Seed { get; } = int.TryParse(Environment.GetEnvironmentVariable("ECHOHOST_SEED"), out var seed) ? seed : 20261121;
}
