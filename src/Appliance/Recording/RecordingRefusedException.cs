namespace Appliance.Recording;

/// <summary>A session cannot start because it cannot be recorded (queue full under <c>fail-session</c>, or the store is down).</summary>
public sealed class RecordingRefusedException : Exception
{
    public RecordingRefusedException(string message, RecordingFailure failure) : base(message)
    {
        Failure = failure;
    }

    public RecordingFailure Failure { get; }
}
