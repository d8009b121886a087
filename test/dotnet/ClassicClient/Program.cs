using ClassicClient;
using InteropClient;

// Usage: ClassicClient <sample app base URL>
// Runs every case in order and writes one JSON line per case to stdout: what the classic .NET
// client observed. The Vitest spec holds the expectations.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: ClassicClient <sample app URL>");
    return 2;
}

await new SampleAppCases(args[0], new Report(Console.Out)).RunAsync();
return 0;
