using Appliance.Bench.Budgets;
using BenchmarkDotNet.Running;

namespace Appliance.Bench;

public static class Program
{
    /// <summary>
    /// <c>--budgets [--budgets-file F] [--out F] [PATTERN…]</c> checks allocation budgets (CI); anything else is
    /// BenchmarkDotNet's own command line (<c>--filter '*'</c>, <c>--list flat</c>, <c>--job short</c> …).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--budgets")
        {
            return AllocationBudgetCheck.Run(args[1..]);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
