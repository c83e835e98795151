using EchoHost.Configuration;
using EchoHost.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EchoHost.Tests.Configuration;

public sealed class ConfigurationValidationTests
{
    private static Dictionary<string, string?> Valid() => new()
    {
        ["EchoHost:Address"] = "127.0.0.1",
        ["EchoHost:Http:Port"] = "8080",
        ["EchoHost:Listeners:Echo:Protocol"] = "Echo",
        ["EchoHost:Listeners:Echo:Port"] = "65432",
        ["EchoHost:Listeners:Udp:Protocol"] = "UdpEcho",
        ["EchoHost:Listeners:Udp:Port"] = "65400",
    };

    /// <summary>The failures a user would see for this configuration, in order; empty when it is valid.</summary>
    private static IReadOnlyList<string> Failures(Action<Dictionary<string, string?>> change)
    {
        var values = Valid();
        change(values);
        return ConfigurationFailures.Of(values);
    }

    [Fact]
    public void Valid_configuration_passes() => Assert.Empty(Failures(_ => { }));

    [Theory]
    [InlineData("EchoHost:Listeners:Echo:Port", "70000", "EchoHost:Listeners:Echo:Port: 70000 is out of range")]
    [InlineData("EchoHost:Listeners:Echo:Port", "-1", "EchoHost:Listeners:Echo:Port: -1 is out of range")]
    [InlineData("EchoHost:Http:Port", "65536", "EchoHost:Http:Port: 65536 is out of range")]
    [InlineData("EchoHost:Listeners:Echo:Port", "abc", "EchoHost:Listeners:Echo:Port: 'abc' is not a whole number")]
    [InlineData("EchoHost:Listeners:Echo:Protocol", "Gopher", "EchoHost:Listeners:Echo:Protocol: unknown protocol 'Gopher'")]
    [InlineData("EchoHost:Listeners:Echo:Protocol", "0", "EchoHost:Listeners:Echo:Protocol: unknown protocol '0'")]
    [InlineData("EchoHost:Listeners:Echo:Protocol", "", "EchoHost:Listeners:Echo:Protocol: missing")]
    [InlineData("EchoHost:Address", "example.com", "EchoHost:Address: 'example.com' is not a bind address")]
    [InlineData("EchoHost:Listeners:Echo:Address", "1.2.3", "EchoHost:Listeners:Echo:Address: '1.2.3' is not a bind address")]
    [InlineData("EchoHost:Http:Address", "nowhere", "EchoHost:Http:Address: 'nowhere' is not a bind address")]
    [InlineData("EchoHost:Listeners:Echo:IdleTimeout", "5m", "EchoHost:Listeners:Echo:IdleTimeout: '5m' is not a duration")]
    [InlineData("EchoHost:Listeners:Echo:IdleTimeout", "-00:00:01", "EchoHost:Listeners:Echo:IdleTimeout: must not be negative")]
    [InlineData("EchoHost:Listeners:Echo:MaxConnections", "-5", "EchoHost:Listeners:Echo:MaxConnections: must not be negative")]
    [InlineData("EchoHost:Listeners:Echo:MaxConnectionsPerIp", "many", "EchoHost:Listeners:Echo:MaxConnectionsPerIp: 'many' is not a whole number")]
    [InlineData("EchoHost:Listeners:Echo:Enabled", "maybe", "EchoHost:Listeners:Echo:Enabled: 'maybe' is not true or false")]
    [InlineData("EchoHost:Listeners:Echo:Prot", "Echo", "EchoHost:Listeners:Echo:Prot: unknown key")]
    [InlineData("EchoHost:Listner", "x", "EchoHost:Listner: unknown key")]
    [InlineData("EchoHost:ShutdownTimeout", "-00:00:01", "EchoHost:ShutdownTimeout: must not be negative")]
    [InlineData("EchoHost:ShutdownDrainDelay", "00:00:15", "EchoHost:ShutdownDrainDelay: must be from 0 to less than ShutdownTimeout (00:00:15)")]
    [InlineData("EchoHost:Chat:MaxLineBytes", "0", "EchoHost:Chat:MaxLineBytes: 0 is too small; use at least 16")]
    [InlineData("EchoHost:Chat:MaxQueuedBytes", "1000", "EchoHost:Chat:MaxQueuedBytes: 1000 is too small; use at least 4 x (MaxLineBytes + 64) = 8448")]
    [InlineData("EchoHost:Chat:HistorySize", "100", "EchoHost:Chat:MaxQueuedBytes: 262144 is too small; use at least 2 x HistorySize x (MaxLineBytes + 64) = 422400, so the history replayed on join fills at most half of a user's queue")]
    [InlineData("EchoHost:Chat:MaxQueuedPrivateBytes", "1000", "EchoHost:Chat:MaxQueuedPrivateBytes: 1000 is out of range; use at least MaxLineBytes + 64 = 2112 and at most half of MaxQueuedBytes = 131072")]
    [InlineData("EchoHost:Chat:MaxQueuedPrivateBytes", "200000", "EchoHost:Chat:MaxQueuedPrivateBytes: 200000 is out of range; use at least MaxLineBytes + 64 = 2112 and at most half of MaxQueuedBytes = 131072")]
    [InlineData("EchoHost:Chat:SlowReaderNickHold", "-00:00:01", "EchoHost:Chat:SlowReaderNickHold: must not be negative")]
    [InlineData("EchoHost:Chat:FloodLinesPerSecond", "0", "EchoHost:Chat:FloodLinesPerSecond: must be more than 0")]
    [InlineData("EchoHost:Chat:FloodLinesPerSecond", "fast", "EchoHost:Chat:FloodLinesPerSecond: 'fast' is not a number")]
    [InlineData("EchoHost:Chat:MaxUser", "5", "EchoHost:Chat:MaxUser: unknown key")]
    [InlineData("EchoHost:Http:ConnectionsEndpoint", "maybe", "EchoHost:Http:ConnectionsEndpoint: 'maybe' is not true or false")]
    [InlineData("EchoHost:Otlp:Endpoint", "localhost:4317", "EchoHost:Otlp:Endpoint: 'localhost:4317' is not an http:// or https:// URL")]
    [InlineData("EchoHost:Otlp:Endpoint", "collector", "EchoHost:Otlp:Endpoint: 'collector' is not an http:// or https:// URL")]
    [InlineData("EchoHost:Otlp:Protocol", "Zipkin", "EchoHost:Otlp:Protocol: 'Zipkin' is not one of Grpc, HttpProtobuf")]
    [InlineData("EchoHost:Otlp:Protocol", "7", "EchoHost:Otlp:Protocol: use Grpc or HttpProtobuf")]
    [InlineData("EchoHost:Otlp:ExportInterval", "00:00:00", "EchoHost:Otlp:ExportInterval: must be positive")]
    [InlineData("EchoHost:Otlp:Endpont", "http://collector:4317", "EchoHost:Otlp:Endpont: unknown key")]
    [InlineData("EchoHost:Listeners:Udp:DenySourcePorts:2", "x", "EchoHost:Listeners:Udp:DenySourcePorts:2: 'x' is not a whole number")]
    [InlineData("EchoHost:Listeners:Udp:DenySourcePorts:0", "70000", "EchoHost:Listeners:Udp:DenySourcePorts:0: 70000 is out of range; use 0 to 65535")]
    [InlineData("EchoHost:Listeners:Udp:DenySourcePorts", "7,9", "EchoHost:Listeners:Udp:DenySourcePorts: '7,9' is not a list; write a JSON array")]
    [InlineData("EchoHost:Listeners:Udp:MaxDatagramBytes", "65508", "EchoHost:Listeners:Udp:MaxDatagramBytes: 65508 is out of range; use 1 to 65507")]
    [InlineData("EchoHost:Listeners:Udp:MaxDatagramBytes", "0", "EchoHost:Listeners:Udp:MaxDatagramBytes: 0 is out of range")]
    [InlineData("EchoHost:Listeners:Udp:MaxDatagramBytes", "big", "EchoHost:Listeners:Udp:MaxDatagramBytes: 'big' is not a whole number")]
    [InlineData("EchoHost:Listeners:Udp:PerSourceDatagramsPerSecond", "-1", "EchoHost:Listeners:Udp:PerSourceDatagramsPerSecond: must not be negative; use 0 for no limit")]
    [InlineData("EchoHost:Listeners:Udp:IdleTimeout", "00:01:00", "EchoHost:Listeners:Udp:IdleTimeout: applies to TCP listeners only; remove it from this UdpEcho listener")]
    [InlineData("EchoHost:Listeners:Udp:MaxConnections", "5", "EchoHost:Listeners:Udp:MaxConnections: applies to TCP listeners only")]
    [InlineData("EchoHost:Listeners:Udp:MaxConnectionsPerIp", "5", "EchoHost:Listeners:Udp:MaxConnectionsPerIp: applies to TCP listeners only")]
    [InlineData("EchoHost:Listeners:Udp:Banner", "hi", "EchoHost:Listeners:Udp:Banner: applies to TCP listeners only")]
    [InlineData("EchoHost:Listeners:Echo:MaxDatagramBytes", "512", "EchoHost:Listeners:Echo:MaxDatagramBytes: applies to UDP listeners only; remove it from this Echo listener")]
    [InlineData("EchoHost:Listeners:Echo:DenySourcePorts:0", "7", "EchoHost:Listeners:Echo:DenySourcePorts: applies to UDP listeners only")]
    [InlineData("EchoHost:Listeners:Echo:PerSourceDatagramsPerSecond", "5", "EchoHost:Listeners:Echo:PerSourceDatagramsPerSecond: applies to UDP listeners only")]
    public void A_bad_value_is_reported_with_its_key(string key, string value, string expectedStart)
    {
        var failures = Failures(c => c[key] = value);

        Assert.Contains(failures, f => f.StartsWith(expectedStart, StringComparison.Ordinal));
    }

    /// <summary>TimeSpan reads a bare number as days: <c>"IdleTimeout": 300</c> would have been 300 days.</summary>
    [Theory]
    [InlineData("EchoHost:Listeners:Echo:IdleTimeout", "300")]
    [InlineData("EchoHost:Listeners:Echo:ProxyProtocolTimeout", "5")]
    [InlineData("EchoHost:Listeners:Echo:Tls:HandshakeTimeout", "10")]
    [InlineData("EchoHost:ShutdownTimeout", "15")]
    [InlineData("EchoHost:ShutdownDrainDelay", "-2")]
    [InlineData("EchoHost:Http:IdleTimeout", "60")]
    [InlineData("EchoHost:Chat:IdleTimeout", "1800")]
    [InlineData("EchoHost:Chat:PostgresTimeout", "3")]
    [InlineData("EchoHost:Chat:SlowReaderNickHold", "60")]
    [InlineData("EchoHost:Otlp:ExportInterval", "60")]
    public void A_bare_number_for_a_duration_is_an_error_that_shows_the_format(string key, string value) =>
        Assert.Contains($"{key}: '{value}' is not a duration; write hh:mm:ss, such as 00:05:00 (or d.hh:mm:ss)", Failures(c => c[key] = value));

    [Fact]
    public void A_bare_number_in_appsettings_json_is_an_error_too()
    {
        var json = """{ "EchoHost": { "Listeners": { "Echo": { "Protocol": "Echo", "Port": 65432, "IdleTimeout": 300 } } } }""";
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();

        var failure = Assert.Throws<OptionsValidationException>(() => ConfigurationShape.Bind(configuration.GetSection("EchoHost"), new EchoHostOptions(), null, TestProtocols.Registry));

        Assert.Equal(["EchoHost:Listeners:Echo:IdleTimeout: '300' is not a duration; write hh:mm:ss, such as 00:05:00 (or d.hh:mm:ss)"], failure.Failures);
    }

    /// <summary>0 is zero in every unit, and the validator's own advice says "use 0 for no idle timeout".</summary>
    [Theory]
    [InlineData("0")]
    [InlineData("00:00:00")]
    [InlineData("1.00:00:00")]
    [InlineData("00:00:00.500")]
    public void Zero_and_written_durations_are_accepted(string value) =>
        Assert.Empty(Failures(c => c["EchoHost:Listeners:Echo:IdleTimeout"] = value));

    [Fact]
    public void The_known_keys_of_a_tcp_listener_leave_out_the_udp_only_keys_and_the_other_way_round()
    {
        var tcp = Assert.Single(Failures(c => c["EchoHost:Listeners:Echo:Colour"] = "red"));
        var udp = Assert.Single(Failures(c => c["EchoHost:Listeners:Udp:Colour"] = "red"));

        Assert.Equal("EchoHost:Listeners:Echo:Colour: unknown key; known keys here are Protocol, Port, Address, Enabled, IdleTimeout, MaxConnections, "
            + "MaxConnectionsPerIp, Banner, Tls, ProxyProtocol, TrustedProxies, ProxyProtocolTimeout", tcp);
        Assert.Equal("EchoHost:Listeners:Udp:Colour: unknown key; known keys here are Protocol, Port, Address, Enabled, MaxDatagramBytes, DenySourcePorts, "
            + "PerSourceDatagramsPerSecond", udp);
    }

    [Theory]
    [InlineData("EchoHost:Listeners:Echo:MaxConections", "MaxConnections")]
    [InlineData("EchoHost:Listeners:Echo:maxconnectionsperip2", "MaxConnectionsPerIp")]
    [InlineData("EchoHost:Listeners:Echo:Prot", "Protocol")]
    [InlineData("EchoHost:Listeners:Udp:MaxDatagramByte", "MaxDatagramBytes")]
    [InlineData("EchoHost:Chat:MaxUser", "MaxUsers")]
    [InlineData("EchoHost:Listner", "Listeners")]
    public void A_close_misspelling_gets_a_did_you_mean(string key, string meant)
    {
        var failure = Assert.Single(Failures(c => c[key] = "5"));

        Assert.StartsWith($"{key}: unknown key; did you mean {meant}? known keys here are ", failure);
    }

    [Fact]
    public void A_key_near_nothing_gets_no_did_you_mean() =>
        Assert.DoesNotContain("did you mean", Assert.Single(Failures(c => c["EchoHost:Listeners:Echo:Colour"] = "red")));

    [Theory]
    [InlineData("http://collector:4317", "Grpc")]
    [InlineData("https://collector.example:4318/v1/metrics", "HttpProtobuf")]
    public void An_otlp_collector_url_is_accepted(string endpoint, string protocol) => Assert.Empty(Failures(c =>
    {
        c["EchoHost:Otlp:Endpoint"] = endpoint;
        c["EchoHost:Otlp:Protocol"] = protocol;
    }));

    [Fact]
    public void Missing_port_is_reported()
    {
        var failures = Failures(c => c.Remove("EchoHost:Listeners:Echo:Port"));

        Assert.Contains("EchoHost:Listeners:Echo:Port: missing; set a port from 0 to 65535", failures);
    }

    [Fact]
    public void Udp_limits_default_when_unset_and_a_set_list_replaces_the_default()
    {
        var options = Bind(Valid());
        var udp = Assert.Single(ListenerSet.Of(options, TestProtocols.Registry).All, l => l.Name == "Udp");
        Assert.Equal(ListenerTransport.Udp, udp.Transport);
        Assert.Equal(65_507, udp.Udp.MaxDatagramBytes);
        Assert.Equal([0, 7, 9, 13, 17, 19, 37], udp.Udp.DenySourcePorts);
        Assert.Equal(10_000, udp.Udp.PerSourceDatagramsPerSecond);

        var values = Valid();
        values["EchoHost:Listeners:Udp:DenySourcePorts:0"] = "4000";
        values["EchoHost:Listeners:Udp:DenySourcePorts:1"] = "4001";
        values["EchoHost:Listeners:Udp:MaxDatagramBytes"] = "512";
        values["EchoHost:Listeners:Udp:PerSourceDatagramsPerSecond"] = "0";
        udp = Assert.Single(ListenerSet.Of(Bind(values), TestProtocols.Registry).All, l => l.Name == "Udp");
        Assert.Equal([4000, 4001], udp.Udp.DenySourcePorts);
        Assert.Equal(512, udp.Udp.MaxDatagramBytes);
        Assert.Equal(0, udp.Udp.PerSourceDatagramsPerSecond);
    }

    [Fact]
    public void An_empty_deny_list_denies_no_port()
    {
        var values = Valid();
        values["EchoHost:Listeners:Udp:DenySourcePorts"] = "";

        Assert.Empty(Failures(c => c["EchoHost:Listeners:Udp:DenySourcePorts"] = ""));
        Assert.Empty(Assert.Single(ListenerSet.Of(Bind(values), TestProtocols.Registry).All, l => l.Name == "Udp").Udp.DenySourcePorts);
    }

    /// <summary>Settings added to the valid configuration, as <c>key=value</c> pairs separated by <c>;</c>.</summary>
    private static IReadOnlyList<string> FailuresWith(string settings) => Failures(c =>
    {
        foreach (var setting in settings.Split(';'))
        {
            var (key, value) = (setting[..setting.IndexOf('=')], setting[(setting.IndexOf('=') + 1)..]);
            c[key] = value;
        }
    });

    [Theory]
    [InlineData("EchoHost:Listeners:Other:Protocol=Echo;EchoHost:Listeners:Other:Port=65432",
        "EchoHost:Listeners:Other:Port: 65432 is already used by listener 'Echo'; give each listener its own port")]
    [InlineData("EchoHost:Listeners:Udp2:Protocol=UdpEcho;EchoHost:Listeners:Udp2:Port=65400",
        "EchoHost:Listeners:Udp2:Port: 65400 is already used by listener 'Udp'; give each listener its own port")]
    [InlineData("EchoHost:Listeners:Echo:Port=8080",
        "EchoHost:Listeners:Echo:Port: 8080 is already used by the HTTP endpoint; give each listener its own port")]
    [InlineData("EchoHost:Listeners:Udp:Address=localhost;EchoHost:Listeners:Udp:Port=0",
        "EchoHost:Listeners:Udp:Port: 0 (a free port) cannot be used with localhost; set EchoHost:Listeners:Udp:Address to 127.0.0.1 or ::1")]
    [InlineData("EchoHost:Address=localhost;EchoHost:Listeners:Echo:Port=0",
        "EchoHost:Listeners:Echo:Port: 0 (a free port) cannot be used with localhost; set EchoHost:Address to 127.0.0.1 or ::1")]
    public void A_port_that_cannot_be_bound_names_the_key_and_what_to_do(string settings, string expected) =>
        Assert.Contains(expected, FailuresWith(settings));

    /// <summary>A UDP and a TCP listener on one port number, one port on two addresses, a disabled listener.</summary>
    [Theory]
    [InlineData("EchoHost:Listeners:Udp:Port=65432;EchoHost:Listeners:UdpOnHttpPort:Protocol=UdpEcho;EchoHost:Listeners:UdpOnHttpPort:Port=8080")]
    [InlineData("EchoHost:Listeners:Echo:Address=127.0.0.1;EchoHost:Listeners:Other:Protocol=Echo;EchoHost:Listeners:Other:Port=65432;EchoHost:Listeners:Other:Address=127.0.0.2")]
    [InlineData("EchoHost:Listeners:Other:Protocol=Echo;EchoHost:Listeners:Other:Port=65432;EchoHost:Listeners:Other:Enabled=false")]
    public void Endpoints_that_do_not_compete_do_not_conflict(string settings) =>
        Assert.Empty(FailuresWith(settings));

    private static EchoHostOptions Bind(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var options = new EchoHostOptions();
        ConfigurationShape.Bind(configuration.GetSection("EchoHost"), options, null, TestProtocols.Registry);
        return options;
    }

    [Fact]
    public void Defaults_apply_per_protocol_and_key()
    {
        var options = Bind(Valid());

        var listener = Assert.Single(ListenerSet.Of(options, TestProtocols.Registry).All, l => l.Name == "Echo");

        Assert.Equal(TimeSpan.FromMinutes(5), listener.IdleTimeout);
        Assert.Equal(10_000, listener.MaxConnections);
        Assert.Equal(1_000, listener.MaxConnectionsPerIp);
        Assert.Null(listener.Banner);
        Assert.Equal(TimeSpan.FromSeconds(15), options.ShutdownTimeout);
    }
}
