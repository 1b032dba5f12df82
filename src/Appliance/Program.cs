using System.CommandLine;
using Appliance.Cli;

namespace Appliance;

public static class Program
{
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("Appliance: an access gateway that checks a CI job's token and decides every operation it runs.")
        {
            RunCommand.Create(),
            CheckCommand.Create(),
            DemoCommand.Create(),
            TokenCommand.Create(),
            ReloadCommand.Create(),
        };
        return root.Parse(args).InvokeAsync();
    }
}
