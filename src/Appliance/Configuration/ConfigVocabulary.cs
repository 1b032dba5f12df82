namespace Appliance.Configuration;

/// <summary>The fixed words the configuration accepts, shared by the loader and the policy compiler.</summary>
public static class ConfigVocabulary
{
    /// <summary>
    /// Statement classes usable in rules' allow/deny/review. <c>all</c> means every class except the ones that
    /// reach outside the database (<c>copy_program</c>, <c>copy_file</c>), which must be named to be allowed.
    /// </summary>
    public static IReadOnlyList<string> StatementClasses { get; } =
        ["select", "insert", "update", "delete", "merge", "ddl", "copy_out", "copy_in", "copy_program", "copy_file",
         "transaction", "session", "lock", "maintenance", "privilege", "admin", "explain", "call", "do", "other", "all"];

    /// <summary>Asymmetric JWT signing algorithms an issuer may allow.</summary>
    public static IReadOnlyList<string> SigningAlgorithms { get; } =
        ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    public static IReadOnlyList<string> MaskingStrategies { get; } = ["redact", "partial", "hash"];

    /// <summary>Where a hash strategy's values stay equal: one target, every target of the gateway, or one session.</summary>
    public static IReadOnlyList<string> HashScopes { get; } = ["target", "global", "session"];

    /// <summary>What a masked column of a type that cannot carry a mask (integer, date, ...) becomes.</summary>
    public static IReadOnlyList<string> UnsupportedTypeActions { get; } = ["null", "refuse"];

    /// <summary>Target kinds the gateway can serve today.</summary>
    public static IReadOnlyList<string> TargetKinds { get; } = ["postgres"];

    /// <summary>Target kinds the design plans but this build does not serve yet.</summary>
    public static IReadOnlyList<string> PlannedTargetKinds { get; } = ["ssh", "kubernetes", "http"];

    /// <summary>In a rule's roles or a masking entry's roles: every principal.</summary>
    public const string AnyRole = "*";

    /// <summary>Parses <c>disable|prefer|require|verify-full</c>.</summary>
    public static bool TryParseUpstreamTls(string text, out UpstreamTlsMode mode)
    {
        (var ok, mode) = text switch
        {
            "disable" => (true, UpstreamTlsMode.Disable),
            "prefer" => (true, UpstreamTlsMode.Prefer),
            "require" => (true, UpstreamTlsMode.Require),
            "verify-full" => (true, UpstreamTlsMode.VerifyFull),
            _ => (false, default),
        };
        return ok;
    }
}
