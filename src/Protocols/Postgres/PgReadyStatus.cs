namespace Appliance.Protocols.Postgres;

/// <summary>Transaction status carried by ReadyForQuery.</summary>
public static class PgReadyStatus
{
    public const byte Idle = (byte)'I';
    public const byte InTransaction = (byte)'T';
    public const byte Failed = (byte)'E';
}
