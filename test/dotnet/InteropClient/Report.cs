using System.Text.Json;

namespace InteropClient;

/// <summary>One JSON line per case: its name and either the value it observed or the error it met.</summary>
public sealed class Report(TextWriter output)
{
    // Long enough for a long-polling start on a loaded machine; a hung case must not hang the run.
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(30);

    public async Task CaseAsync(string name, Func<CancellationToken, Task<object?>> run)
    {
        using var timeout = new CancellationTokenSource(CaseTimeout);
        object line;
        try
        {
            var value = await run(timeout.Token).WaitAsync(timeout.Token);
            line = new { @case = name, value };
        }
        catch (Exception error)
        {
            line = new { @case = name, error = $"{error.GetType().Name}: {error.Message}" };
        }
        output.WriteLine(JsonSerializer.Serialize(line));
        output.Flush();
    }
}
