using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Load;

/// <summary>
/// Chat with several targets (<c>--target a,b</c>): users take turns between them, and every user must still see
/// every line. Two instances that share nothing must fail that (proof that users really are split); two instances on
/// one PostgreSQL must pass it.
/// </summary>
public sealed class MultiTargetChatTests
{
    private static Dictionary<string, string?> ChatListener() => new()
    {
        ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
        ["EchoHost:Listeners:Chat:Port"] = "0",
    };

    [Fact]
    public async Task Two_targets_naming_one_instance_make_every_delivery_once()
    {
        await using var host = await TestHost.StartAsync(ChatListener());
        var port = host.EndPoint("Chat").Port;
        var run = await LoadClientRun.RunAsync("chat", "--target", $"127.0.0.1:{port},localhost:{port}", "--connections", "10", "--rate", "20", "--duration", "1", "--json");
        run.AssertClean(minOps: 50);
        var chat = run.Json.GetProperty("chat");
        Assert.Equal(chat.GetProperty("expected").GetInt64(), chat.GetProperty("delivered").GetInt64());
        Assert.Equal(0, chat.GetProperty("duplicates").GetInt64());
        Assert.Equal($"127.0.0.1:{port},localhost:{port}", run.Json.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Two_instances_that_share_nothing_miss_the_other_half_and_fail()
    {
        await using var a = await TestHost.StartAsync(ChatListener());
        await using var b = await TestHost.StartAsync(ChatListener());
        var run = await LoadClientRun.RunAsync("chat", "--target", $"{a.EndPoint("Chat")},{b.EndPoint("Chat")}", "--connections", "4", "--rate", "8", "--duration", "1", "--timeout", "1", "--json");
        Assert.Equal(1, run.ExitCode);
        var chat = run.Json.GetProperty("chat");
        // Users 0 and 2 are on A, 1 and 3 on B: each line reaches 1 of the 3 others.
        Assert.Equal(chat.GetProperty("expected").GetInt64() / 3, chat.GetProperty("delivered").GetInt64());
    }
}

/// <summary>The same across two instances that share one real PostgreSQL (EchoHost:Chat:Postgres).</summary>
[Collection(nameof(PostgresCollection))]
public sealed class MultiTargetScaleOutChatTests(PostgresServer postgres)
{
    [PostgresFact]
    public async Task Two_instances_on_one_PostgreSQL_make_every_delivery_once_across_them()
    {
        var database = await postgres.CreateDatabaseAsync();
        var config = new Dictionary<string, string?>
        {
            ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
            ["EchoHost:Listeners:Chat:Port"] = "0",
            ["EchoHost:Chat:Postgres"] = database,
        };
        await using var a = await TestHost.StartAsync(config);
        await using var b = await TestHost.StartAsync(config);
        foreach (var host in new[] { a, b })
        {
            await host.Logs.WaitForAsync(e => e.Message.StartsWith("Chat backplane: connected", StringComparison.Ordinal));
        }

        var run = await LoadClientRun.RunAsync("chat", "--target", $"{a.EndPoint("Chat")},{b.EndPoint("Chat")}", "--connections", "10", "--rate", "20", "--duration", "1.5", "--json");
        run.AssertClean(minOps: 100);
        var chat = run.Json.GetProperty("chat");
        Assert.Equal(chat.GetProperty("expected").GetInt64(), chat.GetProperty("delivered").GetInt64());
        Assert.Equal(0, chat.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, chat.GetProperty("outOfOrder").GetInt64());
    }
}
