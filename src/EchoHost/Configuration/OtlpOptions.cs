namespace EchoHost.Configuration;

/// <summary><c>EchoHost:Otlp</c>: optional push of the same metrics to an OpenTelemetry collector.</summary>
public sealed class OtlpOptions
{
    /// <summary>Collector URL such as <c>http://collector:4317</c>; unset (the default) means no OTLP export.</summary>
    public string? Endpoint { get; set; }

    public OtlpProtocol Protocol { get; set; } = OtlpProtocol.Grpc;

    /// <summary>How often metrics are pushed.</summary>
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>The OTLP transports: gRPC (collector port 4317) or HTTP with protobuf bodies (port 4318).</summary>
public enum OtlpProtocol
{
    Grpc,
    HttpProtobuf,
}
