using Microsoft.Extensions.Logging;

namespace Appliance.Hosting;

/// <summary>
/// Adds a scope ("session 42 from 10.0.0.7:50122") to each entry as it is written, instead of holding the scope
/// open for a session's lifetime. A held scope lives in an AsyncLocal, and then every continuation of the session
/// (two per relayed round trip) has to restore an execution context; this way sessions run with none.
/// </summary>
internal sealed class EntryScopedLogger(ILogger inner, string scopeFormat, params object?[] scopeArgs) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel))
        {
            return;
        }
        using (inner.BeginScope(scopeFormat, scopeArgs))
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
