namespace EchoHost.Configuration;

/// <summary>The <c>EchoHost</c> section of configuration: everything a user can set without a code change.</summary>
public sealed class EchoHostOptions
{
    public const string SectionName = "EchoHost";

    public const double DefaultMemoryBudgetPercent = 80;
    public const int DefaultDescriptorReserve = 128;

    /// <summary>Default bind address for every listener: <c>*</c>, <c>localhost</c> or an IP literal.</summary>
    public string Address { get; set; } = "localhost";

    /// <summary>Named listeners; the key is the listener's name in logs and configuration paths.</summary>
    public Dictionary<string, ListenerOptions> Listeners { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public HttpEndpointOptions Http { get; set; } = new();

    /// <summary>The sections protocols registered (see <see cref="ProtocolRegistration.Section"/>), bound by <see cref="ConfigurationShape"/>.</summary>
    internal ProtocolSections Sections { get; } = new();

    public OtlpOptions Otlp { get; set; } = new();

    public LoggingOptions Logging { get; set; } = new();

    /// <summary>How long shutdown may take in all: the drain delay, then closing connections; the rest are aborted.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long listeners keep serving after shutdown starts while <c>/readyz</c> already answers 503.</summary>
    public TimeSpan ShutdownDrainDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// New connections are refused (reason <c>memory</c>) while the GC heap holds more than this share of the memory the
    /// GC may use: its heap hard limit, which in a container is 75 % of the memory limit, else the machine's memory.
    /// <c>0</c> turns the budget off.
    /// </summary>
    public double MemoryBudgetPercent { get; set; } = DefaultMemoryBudgetPercent;

    /// <summary>The memory budget in bytes, instead of <see cref="MemoryBudgetPercent"/>; unset means the percentage.</summary>
    public long? MemoryBudgetBytes { get; set; }

    /// <summary>
    /// File descriptors kept for everything but client connections (log files, the database, a refused socket before
    /// it closes): new connections are refused (reason <c>descriptors</c>) once the open ones would leave fewer free.
    /// At least 32: at the open-file limit itself the runtime aborts ("Out of memory.").
    /// </summary>
    public int DescriptorReserve { get; set; } = DefaultDescriptorReserve;

    /// <summary>
    /// Whether the plain-TCP listeners of a protocol whose handler is EchoHost's own non-blocking code (echo) run it on
    /// the socket engine's thread, in turns (Transport/InlineSocketListener). <c>false</c>: Kestrel's default transport,
    /// every read through the thread pool (more than twice the CPU per message with one busy connection, about the
    /// same with dozens; docs/performance.md).
    /// </summary>
    public bool SocketThreads { get; set; } = true;
}
