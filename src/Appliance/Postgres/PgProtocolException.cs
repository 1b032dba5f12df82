namespace Appliance.Postgres;

/// <summary>
/// Ends a session during startup with a FATAL ErrorResponse. Only used off the relay hot path,
/// where the login sequence reads best as straight-line code.
/// </summary>
internal sealed class PgProtocolException(string sqlState, string message) : Exception(message)
{
    public string SqlState { get; } = sqlState;
}
