using System.CommandLine;
using Appliance.Cli;

namespace Appliance;

public static class Program
{
    public static Task<int> Main(string[] args)
    {
        Hosting.SocketEngineDefaults.Apply();
        return CreateRootCommand().Parse(args).InvokeAsync();
    }

    /// <summary>Every verb; tests invoke it with their own output writers.</summary>
    internal static RootCommand CreateRootCommand() =>
        new("Appliance: an access gateway that checks a CI job's token and decides every operation it runs.")
        {
            RunCommand.Create(),
            CheckCommand.Create(),
            DemoCommand.Create(),
            TokenCommand.Create(),
            ReloadCommand.Create(),
            SessionsCommand.Create(),
            ApprovalsCommand.Create(),
            StoreCommand.Create(),
        };
}
