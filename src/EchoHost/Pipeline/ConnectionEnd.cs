using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Pipeline;

/// <summary>
/// "Run the rest of the pipeline, then this": without an async frame per middleware, which would cost every
/// connection a state machine held for its whole life. Kestrel calls back through
/// <see cref="IConnectionCompleteFeature"/> as soon as the rest of the pipeline has finished, before it lets the
/// transport go; callbacks run in reverse order of registration, so outer middlewares finish last, as nesting would.
/// A connection context without that feature (one a test builds) awaits the rest of the pipeline instead.
/// </summary>
internal static class ConnectionEnd
{
    /// <summary>
    /// Calls <paramref name="next"/>, then <paramref name="ended"/> with <paramref name="state"/> once the connection
    /// has ended. <paramref name="ended"/> should be created once per middleware, not per connection.
    /// </summary>
    public static Task ThenOnEnd(this ConnectionDelegate next, ConnectionContext connection, Func<object, Task> ended, object state)
    {
        if (connection.Features.Get<IConnectionCompleteFeature>() is { } complete)
        {
            complete.OnCompleted(ended, state);
            return next(connection);
        }

        return AwaitThen(next, connection, ended, state);
    }

    private static async Task AwaitThen(ConnectionDelegate next, ConnectionContext connection, Func<object, Task> ended, object state)
    {
        try
        {
            await next(connection);
        }
        finally
        {
            await ended(state);
        }
    }
}
