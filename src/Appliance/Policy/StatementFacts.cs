namespace Appliance.Policy;

/// <summary>
/// What the classifier found in one statement, in the form rules match on: the class, and the tables and
/// functions it touches as normalised, schema-qualified lowercase names packed in one buffer.
/// </summary>
public readonly ref struct StatementFacts(
    StatementClass statementClass,
    ReadOnlySpan<byte> names,
    ReadOnlySpan<Range> tables,
    ReadOnlySpan<Range> functions,
    bool tablesComplete,
    bool functionsComplete = true,
    ReadOnlySpan<Range> readThroughViews = default,
    bool functionsResolved = false,
    bool callsUserFunction = false)
{
    public StatementClass Class { get; } = statementClass;

    /// <summary>The bytes the ranges below point into.</summary>
    public ReadOnlySpan<byte> Names { get; } = names;

    /// <summary>Every table read or written, as <c>schema.table</c>.</summary>
    public ReadOnlySpan<Range> Tables { get; } = tables;

    /// <summary>Every function called, as <c>name</c> or <c>schema.name</c> as written.</summary>
    public ReadOnlySpan<Range> Functions { get; } = functions;

    /// <summary>Relations the views among <see cref="Tables"/> read: deny and review rules match them too.</summary>
    public ReadOnlySpan<Range> ReadThroughViews { get; } = readThroughViews;

    /// <summary>True when the calls were looked up in the target's catalog (<see cref="CallsUserFunction"/> is then known).</summary>
    public bool FunctionsResolved { get; } = functionsResolved;

    /// <summary>A call to a function that is not built in: the gateway cannot see which tables it reads.</summary>
    public bool CallsUserFunction { get; } = callsUserFunction;

    /// <summary>False when the classifier could not be sure it found every table: rules with tables then fail closed.</summary>
    public bool TablesComplete { get; } = tablesComplete;

    /// <summary>False when calls may be hidden from the classifier: guarded-function checks then fail closed.</summary>
    public bool FunctionsComplete { get; } = functionsComplete;
}
