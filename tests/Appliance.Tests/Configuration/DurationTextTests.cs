using Appliance.Configuration;
using CsCheck;

namespace Appliance.Tests.Configuration;

public sealed class DurationTextTests
{
    private static readonly long s_maxMilliseconds = TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMillisecond;

    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("15m", 900_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("90m", 5_400_000)]
    [InlineData("1h5s", 3_605_000)]
    [InlineData("2m3s400ms", 123_400)]
    [InlineData("0s", 0)]
    [InlineData("0ms", 0)]
    [InlineData("48h", 172_800_000)]
    public void TryParse_ValidText_ReturnsDuration(string text, long milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("s")]
    [InlineData("-5s")]
    [InlineData("1.5h")]
    [InlineData("30m1h")]
    [InlineData("1h1h")]
    [InlineData("5ms3s")]
    [InlineData("30 s")]
    [InlineData(" 30s")]
    [InlineData("30S")]
    [InlineData("1d")]
    [InlineData("1h30")]
    [InlineData("99999999999999999999h")]
    [InlineData("3000000000h")]
    public void TryParse_InvalidText_ReturnsFalse(string text)
    {
        Assert.False(DurationText.TryParse(text, out _));
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(500, "500ms")]
    [InlineData(30_000, "30s")]
    [InlineData(5_400_000, "1h30m")]
    [InlineData(3_605_001, "1h5s1ms")]
    [InlineData(172_800_000, "48h")]
    public void Format_Duration_ReturnsCanonicalText(long milliseconds, string text)
    {
        Assert.Equal(text, DurationText.Format(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void Format_Negative_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DurationText.Format(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void TryParse_MaxValueTruncatedToMilliseconds_RoundTrips()
    {
        var max = TimeSpan.FromTicks(s_maxMilliseconds * TimeSpan.TicksPerMillisecond);

        Assert.True(DurationText.TryParse(DurationText.Format(max), out var parsed));
        Assert.Equal(max, parsed);
    }

    [Fact]
    public void Format_ThenTryParse_RoundTripsAnyMillisecondDuration()
    {
        Gen.Long[0, s_maxMilliseconds].Sample(milliseconds =>
        {
            var duration = TimeSpan.FromTicks(milliseconds * TimeSpan.TicksPerMillisecond);
            var text = DurationText.Format(duration);
            Assert.True(DurationText.TryParse(text, out var parsed), text);
            Assert.Equal(duration, parsed);
        });
    }

    [Fact]
    public void Format_ThenTryParse_RoundTripsShortDurations()
    {
        // The full range rarely lands on the small values configurations use; cover them separately.
        Gen.Long[0, 100L * 3_600_000].Sample(milliseconds =>
        {
            var duration = TimeSpan.FromMilliseconds(milliseconds);
            Assert.True(DurationText.TryParse(DurationText.Format(duration), out var parsed));
            Assert.Equal(duration, parsed);
        });
    }

    [Fact]
    public void TryParse_AnyOrderedComponents_SumsThem()
    {
        // -1 leaves a component out; components may exceed their natural range (90m, 5000ms).
        var component = Gen.Int[-1, 5000];
        Gen.Select(component, component, component, component).Sample((h, m, s, ms) =>
        {
            var text = string.Concat(
                h >= 0 ? $"{h}h" : "", m >= 0 ? $"{m}m" : "", s >= 0 ? $"{s}s" : "", ms >= 0 ? $"{ms}ms" : "");
            var expected = TimeSpan.FromHours(Math.Max(h, 0)) + TimeSpan.FromMinutes(Math.Max(m, 0))
                + TimeSpan.FromSeconds(Math.Max(s, 0)) + TimeSpan.FromMilliseconds(Math.Max(ms, 0));

            Assert.Equal(text.Length > 0, DurationText.TryParse(text, out var parsed));
            Assert.Equal(text.Length > 0 ? expected : TimeSpan.Zero, parsed);
        });
    }
}
