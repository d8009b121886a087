using System.Net.Http.Json;
using InteropClient;
using Microsoft.AspNet.SignalR.Client;
using Microsoft.AspNet.SignalR.Client.Http;
using Microsoft.AspNet.SignalR.Client.Transports;

namespace ClassicClient;

/// <summary>The sample's whoami answer.</summary>
public sealed record Identity(string Name, string[] Roles);

/// <summary>
/// Cases against the sample's classic endpoint (sample-app-contract.md, "Classic endpoint"): hubs
/// chatHub and publicHub at /signalr, the JWT in the access_token query string.
/// </summary>
public sealed class SampleAppCases(string baseUrl, Report report)
{
    private readonly HttpClient http = new();

    /// <summary>Every transport the classic client offers on .NET (not forever frames, a browser's).</summary>
    private static readonly IReadOnlyList<Func<IClientTransport>> Transports =
    [
        () => new WebSocketTransport(),
        () => new ServerSentEventsTransport(),
        () => new LongPollingTransport(),
    ];

    public async Task RunAsync()
    {
        var alice = await LoginAsync("alice");
        var bob = await LoginAsync("bob");
        var admin = await LoginAsync("admin");
        foreach (var transport in Transports) await OverTransportAsync(transport, alice, bob, admin);
    }

    private async Task<string> LoginAsync(string user)
    {
        var response = await http.PostAsJsonAsync($"{baseUrl}/auth/login", new { username = user, password = $"{user}-pass" });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>();
        return body!["access_token"];
    }

    private HubConnection Connect(string? token) =>
        new($"{baseUrl}/signalr", token is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["access_token"] = token }, useDefaultUrl: false);

    private async Task OverTransportAsync(Func<IClientTransport> transport, string alice, string bob, string admin)
    {
        var name = transport().Name;
        using var aliceConnection = Connect(alice);
        var aliceChat = aliceConnection.CreateHubProxy("chatHub");
        var received = new TaskCompletionSource<string[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        aliceChat.On<string, string, string>("receiveMessage", (room, sender, text) => received.TrySetResult([room, sender, text]));
        var announced = new TaskCompletionSource<string[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        aliceChat.On<string, string>("announcement", (sender, text) => announced.TrySetResult([sender, text]));
        var started = false;
        await report.CaseAsync($"{name} start", async _ =>
        {
            await aliceConnection.Start(transport());
            started = true;
            return new { state = aliceConnection.State.ToString(), transport = aliceConnection.Transport.Name };
        });
        if (!started) return;

        await report.CaseAsync($"{name} whoami names the user of the access_token query string", async _ => await aliceChat.Invoke<Identity>("whoami"));
        await report.CaseAsync($"{name} echo", async _ => await aliceChat.Invoke<string>("echo", new { text = "你好，世界！" }));
        await report.CaseAsync($"{name} a room message from another client", async cancel =>
        {
            using var bobConnection = Connect(bob);
            var bobChat = bobConnection.CreateHubProxy("chatHub");
            await bobConnection.Start(transport());
            var room = $"lobby-{name.ToLowerInvariant()}";
            await aliceChat.Invoke("joinRoom", room);
            await bobChat.Invoke("joinRoom", room);
            await bobChat.Invoke("sendToRoom", room, "hello alice");
            return await received.Task.WaitAsync(cancel);
        });
        await report.CaseAsync($"{name} an announcement to everyone", async cancel =>
        {
            using var adminConnection = Connect(admin);
            var adminChat = adminConnection.CreateHubProxy("chatHub");
            await adminConnection.Start(transport());
            await adminChat.Invoke("announce", $"hello over {name}");
            return await announced.Task.WaitAsync(cancel);
        });
        await report.CaseAsync($"{name} a HubException's message", async _ =>
        {
            await aliceChat.Invoke("joinRoom", "admins");
            return "joined";
        });
        await report.CaseAsync($"{name} any other error, sanitized", async _ =>
        {
            await aliceChat.Invoke("fail");
            return "returned";
        });
        await report.CaseAsync($"{name} a method alice's role may not call", async _ =>
        {
            await aliceChat.Invoke("announce", "hello");
            return "announced";
        });
        await report.CaseAsync($"{name} anonymous publicHub", async _ =>
        {
            using var anonymous = Connect(null);
            var publicHub = anonymous.CreateHubProxy("publicHub");
            await anonymous.Start(transport());
            var pong = await publicHub.Invoke<string>("ping");
            try
            {
                await publicHub.Invoke<string>("secret");
                return new { pong, secret = "answered" };
            }
            catch (InvalidOperationException error)
            {
                return new { pong, secret = $"{error.GetType().Name}: {error.Message}" };
            }
        });
        await report.CaseAsync($"{name} anonymous chatHub refused", async _ => await RefusedStatusAsync(Connect(null), transport()));
        await report.CaseAsync($"{name} forged access token refused", async _ => await RefusedStatusAsync(Connect(alice[..^4] + "AAAA"), transport()));
        await report.CaseAsync($"{name} another origin refused", async _ =>
        {
            var foreign = Connect(alice);
            foreign.Headers["Origin"] = "http://elsewhere.invalid";
            return await RefusedStatusAsync(foreign, transport());
        });
        await report.CaseAsync($"{name} stop", async cancel =>
        {
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            aliceConnection.Closed += () => closed.TrySetResult();
            aliceConnection.Stop();
            await closed.Task.WaitAsync(cancel);
            return aliceConnection.State.ToString();
        });
    }

    /// <summary>Starts a connection the server should refuse; the status of the refused request.</summary>
    private static async Task<object> RefusedStatusAsync(HubConnection connection, IClientTransport transport)
    {
        using (connection)
        {
            connection.CreateHubProxy("chatHub");
            try
            {
                await connection.Start(transport);
                return "started";
            }
            catch (HttpClientException error)
            {
                return (int)error.Response.StatusCode;
            }
        }
    }
}
