using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Chat.Backplane;

/// <summary><c>EchoHost:Chat:PostgresTimeout</c>: the deadline of every backplane operation, bound and checked at start.</summary>
public sealed class PostgresTimeoutOptionsTests
{
    private static IReadOnlyList<string> Failures(string? timeout)
    {
        var values = new Dictionary<string, string?>
        {
            ["EchoHost:Address"] = "127.0.0.1",
            ["EchoHost:Chat:Postgres"] = "Host=postgres;Database=echohost",
        };
        if (timeout is not null)
        {
            values["EchoHost:Chat:PostgresTimeout"] = timeout;
        }

        var options = new EchoHostOptions();
        ConfigurationShape.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("EchoHost"), options, null, TestProtocols.Registry);
        var result = TestProtocols.Validator().Validate(null, options);
        return result.Failed ? result.Failures!.ToList() : [];
    }

    [Fact]
    public void Defaults_to_3_seconds_and_accepts_a_duration()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), new ChatOptions().PostgresTimeout);
        Assert.Empty(Failures(null));
        Assert.Empty(Failures("00:00:00.500"));
        Assert.Empty(Failures("00:01:00"));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    [InlineData("00:01:01")]
    public void Zero_negative_or_over_a_minute_is_one_line_naming_the_key(string timeout)
    {
        var failure = Assert.Single(Failures(timeout));
        Assert.StartsWith("EchoHost:Chat:PostgresTimeout: ", failure);
        Assert.Contains("at most 00:01:00", failure);
    }
}
