using InteropClient;

// Usage: InteropClient <test hub server base URL> <sample app base URL>
// Runs every case in order and writes one JSON line per case to stdout: what the official .NET
// client observed. The Vitest spec holds the expectations.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: InteropClient <test hub server URL> <sample app URL>");
    return 2;
}

var report = new Report(Console.Out);
await new TestHubCases(args[0], report).RunAsync();
await new SampleAppCases(args[1], report).RunAsync();
return 0;
