using System.Collections.Concurrent;

namespace EchoHost.Tests.Infrastructure;

internal sealed record CapturedLog(
    string Category,
    LogLevel Level,
    string Message,
    IReadOnlyDictionary<string, object?> State,
    IReadOnlyDictionary<string, object?> Scope,
    Exception? Exception = null);

/// <summary>An <see cref="ILoggerProvider"/> that keeps every entry, with its structured state and scope, for assertions.</summary>
internal sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
    private event Action? Logged;

    public IReadOnlyList<CapturedLog> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new CaptureLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>Waits until an entry matches; the timeout only guards against a hang.</summary>
    public async Task<CapturedLog> WaitForAsync(Func<CapturedLog, bool> match, TimeSpan? timeout = null)
    {
        var found = new TaskCompletionSource<CapturedLog>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            try
            {
                if (_entries.FirstOrDefault(match) is { } entry)
                {
                    found.TrySetResult(entry);
                }
            }
            catch (Exception ex)
            {
                found.TrySetException(ex);
            }
        }

        Logged += Check;
        try
        {
            Check();
            return await found.Task.WaitAsync(timeout ?? TestTimeouts.Default);
        }
        finally
        {
            Logged -= Check;
        }
    }

    public void Dispose()
    {
    }

    private sealed class CaptureLogger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new Dictionary<string, object?>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    values[key] = value;
                }
            }

            var scope = new Dictionary<string, object?>();
            owner._scopes.ForEachScope(static (s, target) =>
            {
                if (s is IEnumerable<KeyValuePair<string, object?>> scopePairs)
                {
                    foreach (var (key, value) in scopePairs)
                    {
                        target[key] = value;
                    }
                }
            }, scope);

            owner._entries.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), values, scope, exception));
            owner.Logged?.Invoke();
        }
    }
}
