using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination.Security;

/// <summary>
/// The <see cref="ConfigurationOptions.LoggerFactory"/> of the shared multiplexer, there only to see every failed Redis
/// connection. StackExchange.Redis raises <see cref="IConnectionMultiplexer.ConnectionFailed"/> for the first failure
/// of a connection only ("until it is restored"), and that first failure happens inside <c>ConnectAsync</c>, before a
/// handler can be attached; if it was not the refusal (the TLS handshake or the connect cancelled under load, say), the
/// AUTH refusals of every later attempt were never reported. The multiplexer logs each failure with its
/// <see cref="RedisConnectionException"/> (an AUTH refusal summed up as a connect timeout carries
/// <see cref="ConnectionFailureType.AuthenticationFailure"/> too), so this logger hands each one to <c>onFailure</c> and
/// writes nothing
/// (transient disconnects are the multiplexer's business, and its messages can carry the server's words verbatim).
/// </summary>
internal sealed class RedisFailureTap(Action<RedisConnectionException> onFailure) : ILoggerFactory, ILogger
{
    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (exception is RedisConnectionException failure)
        {
            try
            {
                onFailure(failure);
            }
            catch (Exception)
            {
                // Never let a report break the multiplexer's connection loop.
            }
        }
    }

    public void Dispose()
    {
    }
}
