using System.Buffers;

namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// Reads the tokens of one statement: stops with an <see cref="SqlTokenKind.End"/> token at a top-level
/// <c>;</c>, counts parentheses and brackets, and keeps the <c>;</c>s of a
/// <c>CREATE FUNCTION|PROCEDURE ... BEGIN ATOMIC ... END</c> body inside the statement. A copy of the
/// struct is an independent cursor, which is how the parser looks ahead.
/// </summary>
internal ref struct SqlTokenReader
{
    internal const string UnbalancedClose = "unbalanced closing parenthesis or bracket";
    internal const string UnclosedParenthesis = "unterminated parenthesis or bracket";
    internal const string UnclosedAtomic = "unterminated BEGIN ATOMIC body";
    internal const string NestedAtomic = "nested BEGIN ATOMIC bodies are not supported";

    private readonly ReadOnlySpan<byte> _text;
    private readonly bool _backslashStrings;
    private int _next;
    private int _depth;
    private RoutineState _routine;
    private int _atomicStart;
    private SqlToken _current;
    private SqlToken _previous;
    private SqlToken _peek;
    private bool _peekValid;
    private string? _peekError;
    private string? _error;
    private bool _endedAtSemicolon;

    private enum RoutineState : sbyte
    {
        NotRoutine = -1,
        Start = 0,
        Create,
        CreateOr,
        CreateOrReplace,
        Routine,
        Atomic,
    }

    public SqlTokenReader(ReadOnlySpan<byte> text, int offset, SqlLexerOptions options)
    {
        _text = text;
        _backslashStrings = !options.StandardConformingStrings;
        _next = offset;
        _atomicStart = -1;
    }

    /// <summary>The token at the cursor; <see cref="SqlTokenKind.None"/> before the first <see cref="Advance"/>.</summary>
    public readonly SqlToken Current => _current;

    /// <summary>The token before <see cref="Current"/> (comments are not tokens).</summary>
    public readonly SqlToken Previous => _previous;

    /// <summary>Why reading stopped early, or null.</summary>
    public readonly string? Error => _error;

    /// <summary>True when <see cref="Current"/> is the End that a top-level <c>;</c> produced.</summary>
    public readonly bool EndedAtSemicolon => _endedAtSemicolon;

    /// <summary>Offset after <see cref="Current"/> (after the <c>;</c> when the statement ended at one).</summary>
    public readonly int NextOffset => _next;

    public readonly bool AtEnd => _current.Kind == SqlTokenKind.End;

    public void Advance()
    {
        if (_current.Kind == SqlTokenKind.End)
        {
            return;
        }
        SqlToken t;
        string? error;
        if (_peekValid)
        {
            _peekValid = false;
            t = _peek;
            error = _peekError;
        }
        else
        {
            SqlLexer.Scan(_text, _next, _backslashStrings, out t, out error);
        }
        _previous = _current;
        if (error is not null)
        {
            _error = error;
            _current = SqlToken.EndAt(t.Start);
            return;
        }
        _next = t.End;
        switch (t.Kind)
        {
            case SqlTokenKind.LeftParen:
            case SqlTokenKind.LeftBracket:
                _depth++;
                break;
            case SqlTokenKind.RightParen:
            case SqlTokenKind.RightBracket:
                if (_depth == 0)
                {
                    _error = UnbalancedClose;
                    _current = SqlToken.EndAt(t.Start);
                    return;
                }
                _depth--;
                break;
            case SqlTokenKind.Semicolon:
                if (_depth == 0 && _routine != RoutineState.Atomic)
                {
                    _endedAtSemicolon = true;
                    _current = SqlToken.EndAt(t.Start);
                    return;
                }
                break;
            case SqlTokenKind.End:
                if (_depth != 0)
                {
                    _error = UnclosedParenthesis;
                }
                else if (_routine == RoutineState.Atomic)
                {
                    _error = UnclosedAtomic;
                }
                _current = t;
                return;
        }
        if (_routine != RoutineState.NotRoutine && !TrackRoutine(t))
        {
            _current = SqlToken.EndAt(t.Start);
            return;
        }
        _current = t;
    }

    /// <summary>The token after <see cref="Current"/>, without moving (End at the statement's end or on an error).</summary>
    public SqlToken Peek()
    {
        if (_current.Kind == SqlTokenKind.End)
        {
            return _current;
        }
        if (!_peekValid)
        {
            SqlLexer.Scan(_text, _next, _backslashStrings, out _peek, out _peekError);
            _peekValid = true;
        }
        if (_peekError is not null)
        {
            return SqlToken.EndAt(_peek.Start);
        }
        if (_peek.Kind == SqlTokenKind.Semicolon && _depth == 0 && _routine != RoutineState.Atomic)
        {
            return SqlToken.EndAt(_peek.Start);
        }
        return _peek;
    }

    // The server's grammar ends a BEGIN ATOMIC body at the first END that starts a statement of the
    // body, that is right after ATOMIC or after a ';' of the body. CASE ... END never does (its END
    // follows an expression), nor does END as a column label ("SELECT 1 end;"). A nested
    // BEGIN ATOMIC is refused rather than guessed.
    private bool TrackRoutine(in SqlToken t)
    {
        var keyword = t.Keyword;
        switch (_routine)
        {
            case RoutineState.Start:
                _routine = keyword == SqlKeyword.Create ? RoutineState.Create : RoutineState.NotRoutine;
                break;
            case RoutineState.Create:
                _routine = keyword == SqlKeyword.Or ? RoutineState.CreateOr
                    : keyword is SqlKeyword.Function or SqlKeyword.Procedure ? RoutineState.Routine : RoutineState.NotRoutine;
                break;
            case RoutineState.CreateOr:
                _routine = keyword == SqlKeyword.Replace ? RoutineState.CreateOrReplace : RoutineState.NotRoutine;
                break;
            case RoutineState.CreateOrReplace:
                _routine = keyword is SqlKeyword.Function or SqlKeyword.Procedure ? RoutineState.Routine : RoutineState.NotRoutine;
                break;
            case RoutineState.Routine:
                if (_depth == 0 && keyword == SqlKeyword.Atomic && _current.Keyword == SqlKeyword.Begin)
                {
                    _routine = RoutineState.Atomic;
                    _atomicStart = t.Start;
                }
                break;
            case RoutineState.Atomic:
                if (_depth != 0)
                {
                    break;
                }
                if (keyword == SqlKeyword.Atomic && _current.Keyword == SqlKeyword.Begin)
                {
                    _error = NestedAtomic;
                    return false;
                }
                else if (keyword == SqlKeyword.End
                    && (_current.Kind == SqlTokenKind.Semicolon || _current.Start == _atomicStart))
                {
                    _routine = RoutineState.Routine;
                }
                break;
        }
        return true;
    }
}
