using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

// Usage: RefreshClient <server base URL> [<two-node proxy base URL>]
// Every case runs at once; each writes one JSON line: {"case": ..., "value": ...} or {"case": ..., "error": ...}.

var baseUrl = args[0];
var proxyUrl = args.Length > 1 ? args[1] : null;
var tokens = new HttpClient();
var output = new object();

async Task<string> Token(string sub, string roles, int ttlSeconds) =>
    await tokens.GetStringAsync($"{baseUrl}/test-tokens?sub={sub}&roles={roles}&ttl={ttlSeconds}");

void Report(string name, object? value, Exception? error = null)
{
    var line = error is null
        ? JsonSerializer.Serialize(new { @case = name, value })
        : JsonSerializer.Serialize(new { @case = name, error = $"{error.GetType().Name}: {error.Message}" });
    lock (output) Console.WriteLine(line);
}

async Task Run(string name, Func<Task<object?>> body)
{
    try
    {
        Report(name, await body());
    }
    catch (Exception error)
    {
        Report(name, null, error);
    }
}

HubConnection Build(string hubUrl, HttpTransportType transport, Func<Task<string?>> token) =>
    new HubConnectionBuilder().WithUrl(hubUrl, options =>
    {
        options.Transports = transport;
        options.AccessTokenProvider = token;
    }).Build();

// A connection on 6-second tokens invokes for HoldMs (the 6 s and 30 s); the client refreshes by default when negotiate announces a lifetime.
async Task<object?> Held(string hubUrl, HttpTransportType transport)
{
    const int HoldMs = 30_000;
    var connection = Build(hubUrl, transport, async () => await Token("alice", "user", 6));
    var refreshed = 0;
    var failed = 0;
    connection.AuthenticationRefreshed += _ => { Interlocked.Increment(ref refreshed); return Task.CompletedTask; };
    connection.AuthenticationRefreshFailed += _ => { Interlocked.Increment(ref failed); return Task.CompletedTask; };
    await connection.StartAsync();
    var echoed = new List<int>();
    var sent = 0;
    var until = DateTime.UtcNow.AddMilliseconds(HoldMs);
    while (DateTime.UtcNow < until)
    {
        echoed.Add(await connection.InvokeAsync<int>("echo", sent++));
        await Task.Delay(50);
    }
    var state = connection.State.ToString();
    await connection.DisposeAsync();
    return new { inOrder = echoed.SequenceEqual(Enumerable.Range(0, sent)), state, refreshed, failed };
}

// Roles of a refreshed token count from the next invocation.
async Task<object?> Roles(string hubUrl, HttpTransportType transport)
{
    var roles = "user";
    var connection = Build(hubUrl, transport, async () => await Token("bob", roles, 600));
    await connection.StartAsync();
    string before;
    try
    {
        before = await connection.InvokeAsync<string>("adminOnly");
    }
    catch (Exception error)
    {
        before = error.Message;
    }
    roles = "user,admin";
    var lifetime = await connection.RefreshAuthenticationAsync();
    var after = await connection.InvokeAsync<string>("adminOnly");
    await connection.DisposeAsync();
    return new { before, after, lifetimeOver590 = lifetime > TimeSpan.FromSeconds(590) };
}

// A refresh the server refuses leaves the connection as it was; when closes is set, it ends it, at once or at the old expiry.
async Task<object?> Refused(string hubUrl, string sub, string roles, int ttlSeconds, string newSub, string newRoles)
{
    var (user, granted) = (sub, roles);
    var connection = Build(hubUrl, HttpTransportType.WebSockets, async () => await Token(user, granted, user == sub && granted == roles ? ttlSeconds : 600));
    var closed = new TaskCompletionSource<string>();
    connection.Closed += error => { closed.TrySetResult(error is null ? "closed without error" : $"closed: {error.Message}"); return Task.CompletedTask; };
    await connection.StartAsync();
    (user, granted) = (newSub, newRoles);
    string refusal;
    try
    {
        await connection.RefreshAuthenticationAsync();
        refusal = "accepted";
    }
    catch (Exception error)
    {
        refusal = error.Message;
    }
    var end = await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
    return new { refusal, end };
}

var cases = new List<Task>();
foreach (var transport in new[] { HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling })
{
    cases.Add(Run($"held/{transport}", () => Held($"{baseUrl}/hubs/refresh", transport)));
    cases.Add(Run($"roles/{transport}", () => Roles($"{baseUrl}/hubs/refresh", transport)));
}
cases.Add(Run("another user", () => Refused($"{baseUrl}/hubs/refresh", "carol", "user", 2, "mallory", "user")));
cases.Add(Run("hub authorization revoked", () => Refused($"{baseUrl}/hubs/members", "dave", "member", 600, "dave", "user")));
if (proxyUrl is not null)
{
    foreach (var transport in new[] { HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling })
    {
        cases.Add(Run($"two nodes/{transport}", () => Held($"{proxyUrl}/hubs/refresh?client=dotnet-{transport}", transport)));
    }
}
await Task.WhenAll(cases);
