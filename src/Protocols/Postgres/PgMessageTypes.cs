namespace Appliance.Protocols.Postgres;

/// <summary>Message types a client sends.</summary>
public static class PgFrontend
{
    public const byte Bind = (byte)'B';
    public const byte Close = (byte)'C';
    public const byte CopyData = (byte)'d';
    public const byte CopyDone = (byte)'c';
    public const byte CopyFail = (byte)'f';
    public const byte Describe = (byte)'D';
    public const byte Execute = (byte)'E';
    public const byte Flush = (byte)'H';
    public const byte FunctionCall = (byte)'F';
    public const byte Parse = (byte)'P';
    public const byte Password = (byte)'p';
    public const byte Query = (byte)'Q';
    public const byte Sync = (byte)'S';
    public const byte Terminate = (byte)'X';
}

/// <summary>Message types a server sends.</summary>
public static class PgBackend
{
    public const byte Authentication = (byte)'R';
    public const byte BackendKeyData = (byte)'K';
    public const byte BindComplete = (byte)'2';
    public const byte CloseComplete = (byte)'3';
    public const byte CommandComplete = (byte)'C';
    public const byte CopyData = (byte)'d';
    public const byte CopyDone = (byte)'c';
    public const byte CopyInResponse = (byte)'G';
    public const byte CopyOutResponse = (byte)'H';
    public const byte CopyBothResponse = (byte)'W';
    public const byte DataRow = (byte)'D';
    public const byte EmptyQueryResponse = (byte)'I';
    public const byte ErrorResponse = (byte)'E';
    public const byte NegotiateProtocolVersion = (byte)'v';
    public const byte NoData = (byte)'n';
    public const byte NoticeResponse = (byte)'N';
    public const byte NotificationResponse = (byte)'A';
    public const byte ParameterDescription = (byte)'t';
    public const byte ParameterStatus = (byte)'S';
    public const byte ParseComplete = (byte)'1';
    public const byte PortalSuspended = (byte)'s';
    public const byte ReadyForQuery = (byte)'Z';
    public const byte RowDescription = (byte)'T';
}

/// <summary>Authentication request codes carried by an 'R' message.</summary>
public static class PgAuthCodes
{
    public const int Ok = 0;
    public const int CleartextPassword = 3;
    public const int Md5Password = 5;
    public const int Sasl = 10;
    public const int SaslContinue = 11;
    public const int SaslFinal = 12;
}

/// <summary>SQLSTATE codes the gateway sends.</summary>
public static class PgSqlState
{
    public const string ProtocolViolation = "08P01";
    public const string ConnectionFailure = "08006";
    public const string CannotConnectNow = "57P03";
    public const string AdminShutdown = "57P01";
    public const string InvalidAuthorization = "28000";
    public const string InvalidPassword = "28P01";
    public const string InvalidCatalogName = "3D000";
    public const string FeatureNotSupported = "0A000";
    public const string InsufficientPrivilege = "42501";
    public const string QueryCanceled = "57014";
    public const string TooManyConnections = "53300";
    public const string ProgramLimitExceeded = "54000";
}
