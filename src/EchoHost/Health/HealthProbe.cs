using EchoHost.Configuration;
using Microsoft.Extensions.Options;

namespace EchoHost.Health;

/// <summary>
/// <c>EchoHost --health</c>: asks the running host's <c>/readyz</c>, on the HTTP endpoint the same configuration
/// names, and exits 0 when it answers 200. The container HEALTHCHECK uses it: chiseled images have no shell or curl.
/// </summary>
internal static class HealthProbe
{
    public const string Flag = "--health";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string[] args, ProtocolRegistry protocols)
    {
        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder()
                .SetBasePath(AppContext.BaseDirectory)
                .AddJsonFile("appsettings.json", optional: true)
                .AddEnvironmentVariables()
                .AddCommandLine(args)
                .Build();
        }
        catch (InvalidDataException ex) when (ConfigurationFileErrors.Describe(ex) is { } file)
        {
            // Broken JSON: the file, line and column, as at start-up.
            await Console.Error.WriteLineAsync(ConfigurationErrors.Line(file));
            return 1;
        }

        var options = new EchoHostOptions();
        try
        {
            ConfigurationShape.Bind(configuration.GetSection(EchoHostOptions.SectionName), options, configuration, protocols);
            // The values too (a port out of range, say), not only the shape: the probe must not fail where start-up would say why.
            var validation = new EchoHostOptionsValidator(protocols, configuration).Validate(null, options);
            if (validation.Failed)
            {
                throw new OptionsValidationException(Options.DefaultName, typeof(EchoHostOptions), validation.Failures);
            }
        }
        catch (OptionsValidationException ex)
        {
            // The same one line per bad key as at start-up, never a stack trace.
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync(ConfigurationErrors.Line(failure));
            }

            return 1;
        }

        var endpoint = HttpEndpointDefinition.Of(options);
        if (!endpoint.Enabled)
        {
            await Console.Error.WriteLineAsync("EchoHost: health: the HTTP endpoint is disabled (EchoHost:Http:Enabled = false)");
            return 1;
        }

        var url = $"http://{Target(endpoint.Address)}:{endpoint.Port}/readyz";
        using var http = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await http.GetAsync(url);
            if (response.IsSuccessStatusCode)
            {
                return 0;
            }

            await Console.Error.WriteLineAsync($"EchoHost: health: {url} answered {(int)response.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"EchoHost: health: {url}: {ex.Message}");
        }

        return 1;
    }

    /// <summary>Where to reach a local endpoint bound to <paramref name="address"/>: wildcards are reached on loopback.</summary>
    private static string Target(BindAddress address) => address.Kind switch
    {
        BindAddressKind.Localhost or BindAddressKind.Any => "127.0.0.1",
        _ when address.Ip!.Equals(System.Net.IPAddress.Any) => "127.0.0.1",
        _ when address.Ip!.Equals(System.Net.IPAddress.IPv6Any) => "[::1]",
        _ when address.Ip!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 => $"[{address.Ip}]",
        _ => address.Ip!.ToString(),
    };
}
