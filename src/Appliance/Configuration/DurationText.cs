namespace Appliance.Configuration;

/// <summary>Durations as written in the configuration: <c>30s</c>, <c>15m</c>, <c>1h30m</c>, <c>500ms</c>.</summary>
/// <remarks>
/// One or more whole-number components in the order h, m, s, ms, each at most once
/// (<c>90m</c> is fine, <c>30m1h</c> is not). No sign, no fractions, no spaces.
/// </remarks>
public static class DurationText
{
    private static readonly long[] s_unitTicks =
        [TimeSpan.TicksPerHour, TimeSpan.TicksPerMinute, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMillisecond];

    /// <summary>Parses a duration; false for anything else (including values past <see cref="TimeSpan.MaxValue"/>).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out TimeSpan value)
    {
        value = default;
        if (text.IsEmpty)
        {
            return false;
        }

        long ticks = 0;
        var lastUnit = -1;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            long number = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                // 18 digits always fit a long; anything longer overflows TimeSpan anyway.
                if (i - start >= 18)
                {
                    return false;
                }

                number = number * 10 + (text[i] - '0');
                i++;
            }

            if (i == start || i == text.Length)
            {
                return false;
            }

            int unit;
            switch (text[i])
            {
                case 'h':
                    unit = 0;
                    i++;
                    break;
                case 'm' when i + 1 < text.Length && text[i + 1] == 's':
                    unit = 3;
                    i += 2;
                    break;
                case 'm':
                    unit = 1;
                    i++;
                    break;
                case 's':
                    unit = 2;
                    i++;
                    break;
                default:
                    return false;
            }

            if (unit <= lastUnit)
            {
                return false;
            }

            lastUnit = unit;
            var unitTicks = s_unitTicks[unit];
            if (number > (TimeSpan.MaxValue.Ticks - ticks) / unitTicks)
            {
                return false;
            }

            ticks += number * unitTicks;
        }

        value = TimeSpan.FromTicks(ticks);
        return true;
    }

    /// <summary>The shortest canonical text for a non-negative duration, truncated to milliseconds (<c>0s</c> for zero).</summary>
    public static string Format(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
        var milliseconds = value.Ticks / TimeSpan.TicksPerMillisecond;
        if (milliseconds == 0)
        {
            return "0s";
        }

        var hours = milliseconds / 3_600_000;
        var minutes = milliseconds / 60_000 % 60;
        var seconds = milliseconds / 1000 % 60;
        var rest = milliseconds % 1000;
        return string.Concat(
            hours > 0 ? $"{hours}h" : "",
            minutes > 0 ? $"{minutes}m" : "",
            seconds > 0 ? $"{seconds}s" : "",
            rest > 0 ? $"{rest}ms" : "");
    }
}
