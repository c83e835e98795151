namespace EchoHost.Hosting;

/// <summary>
/// ASP.NET Core's own ways to name HTTP endpoints — <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>,
/// <c>ASPNETCORE_HTTPS_PORTS</c> (or <c>DOTNET_…</c>), and <c>urls</c> in configuration — mean nothing to EchoHost,
/// whose endpoints all come from <c>EchoHost:Listeners</c> and <c>EchoHost:Http</c>. Left alone, Kestrel would warn
/// that it overrides them on every start; instead they are taken away before the host reads them, and one line says
/// which keys to use when somebody set them.
/// </summary>
internal sealed partial class ServerUrls
{
    private static readonly (string Key, string Name)[] Settings =
    [
        (WebHostDefaults.ServerUrlsKey, "URLS"),
        (WebHostDefaults.HttpPortsKey, "HTTP_PORTS"),
        (WebHostDefaults.HttpsPortsKey, "HTTPS_PORTS"),
    ];

    private readonly List<string> _ignored = [];

    /// <summary>
    /// Removes the variables from this process's environment, remembering them: the host settings are read from the
    /// environment when the builder is created, and kept apart from the configuration later changes could reach.
    /// </summary>
    public static ServerUrls TakeOverEnvironment()
    {
        var urls = new ServerUrls();
        foreach (var variable in Settings.SelectMany(s => new[] { $"ASPNETCORE_{s.Name}", $"DOTNET_{s.Name}" }))
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            {
                urls._ignored.Add($"{variable}={value}");
            }

            Environment.SetEnvironmentVariable(variable, null);
        }

        return urls;
    }

    /// <summary>The same keys in configuration files: remembered, and overridden by a source of their own, added last.</summary>
    public ServerUrls TakeOver(WebApplicationBuilder builder)
    {
        _ignored.AddRange(Settings.Where(s => !string.IsNullOrWhiteSpace(builder.Configuration[s.Key])).Select(s => $"{s.Key}={builder.Configuration[s.Key]}"));
        builder.Configuration.AddInMemoryCollection(Settings.Select(s => KeyValuePair.Create(s.Key, (string?)string.Empty)));
        return this;
    }

    public void LogIfIgnored(ILogger logger, string httpEndpoint)
    {
        if (_ignored.Count > 0)
        {
            LogIgnored(logger, string.Join(", ", _ignored), httpEndpoint);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Not used by EchoHost: {Settings}. The HTTP endpoint is EchoHost:Http:Port and EchoHost:Http:Address (now {HttpEndPoint}); listeners are EchoHost:Listeners")]
    private static partial void LogIgnored(ILogger logger, string settings, string httpEndPoint);
}
