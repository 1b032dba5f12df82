using System.Text.RegularExpressions;
using Npgsql;

namespace Appliance.Tests.Approvals;

/// <summary>Collects an Npgsql connection's notices; a test awaits the approval NOTICE to learn the request id.</summary>
internal sealed class NoticeWaiter
{
    private readonly TaskCompletionSource<string> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NoticeWaiter(NpgsqlConnection connection)
    {
        connection.Notice += (_, e) =>
        {
            Notices.Add(e.Notice.MessageText);
            if (e.Notice.MessageText.Contains("approval", StringComparison.Ordinal)) _first.TrySetResult(e.Notice.MessageText);
        };
    }

    public List<string> Notices { get; } = [];

    /// <summary>The request id of the first approval NOTICE (bounded wait).</summary>
    public async Task<string> RequestIdAsync(int seconds = 30)
    {
        var text = await _first.Task.WaitAsync(TimeSpan.FromSeconds(seconds));
        var m = Regex.Match(text, "request ([0-9a-f]{16})");
        Assert.True(m.Success, text);
        return m.Groups[1].Value;
    }

    public Task<string> TextAsync(int seconds = 30) => _first.Task.WaitAsync(TimeSpan.FromSeconds(seconds));
}
