using System.Net.Http.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace InteropClient;

/// <summary>The sample's Whoami answer; lower-case as on the wire, which MessagePack matches exactly.</summary>
public sealed class Identity
{
#pragma warning disable IDE1006
    public string name { get; set; } = "";
    public string[] roles { get; set; } = [];
#pragma warning restore IDE1006
}

/// <summary>Cases against the sample app (sample-app-contract.md): its JWT, refusals and sanitized errors.</summary>
public sealed class SampleAppCases(string baseUrl, Report report)
{
    private readonly HttpClient http = new();

    public async Task RunAsync()
    {
        var alice = await LoginAsync("alice");
        foreach (var wire in Wire.All) await OverWireAsync(wire, alice);
    }

    private async Task<string> LoginAsync(string user)
    {
        var response = await http.PostAsJsonAsync($"{baseUrl}/auth/login", new { username = user, password = $"{user}-pass" });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>();
        return body!["access_token"];
    }

    private async Task OverWireAsync(Wire wire, string token)
    {
        await using var chat = wire.Build($"{baseUrl}/hubs/chat", options => options.AccessTokenProvider = () => Task.FromResult<string?>(token));
        await report.CaseAsync($"{wire} sample: Whoami with an access token provider", async cancel =>
        {
            await chat.StartAsync(cancel);
            var identity = await chat.InvokeAsync<Identity>("Whoami", cancel);
            return new { identity.name, identity.roles };
        });
        await report.CaseAsync($"{wire} sample: Echo validates its payload", async cancel =>
        {
            var echoed = await chat.InvokeAsync<string>("Echo", new Dictionary<string, string> { ["text"] = "hi" }, cancel);
            try
            {
                await chat.InvokeAsync<string>("Echo", new Dictionary<string, string> { ["text"] = "" }, cancel);
                return new { echoed, invalid = "accepted" };
            }
            catch (HubException error)
            {
                return new { echoed, invalid = error.Message };
            }
        });
        await report.CaseAsync($"{wire} sample: Fail is sanitized", async cancel =>
        {
            await chat.InvokeAsync("Fail", cancel);
            return "returned";
        });
        await report.CaseAsync($"{wire} sample: JoinRoom admins refused for alice", async cancel =>
        {
            await chat.InvokeAsync("JoinRoom", "admins", cancel);
            return "joined";
        });
        await report.CaseAsync($"{wire} sample: Announce refused for alice", async cancel =>
        {
            await chat.InvokeAsync("Announce", "hello", cancel);
            return "announced";
        });
        await report.CaseAsync($"{wire} sample: Counter stream", async cancel =>
        {
            var items = new List<int>();
            await foreach (var item in chat.StreamAsync<int>("Counter", 3, 0, cancel)) items.Add(item);
            return items;
        });
        await report.CaseAsync($"{wire} sample: Sum of a ChannelReader", async cancel =>
        {
            var channel = Channel.CreateUnbounded<int>();
            var sum = chat.InvokeAsync<int>("Sum", channel.Reader, cancel);
            foreach (var number in new[] { 1, 2, 3, 4 }) await channel.Writer.WriteAsync(number, cancel);
            channel.Writer.Complete();
            return await sum;
        });

        await report.CaseAsync($"{wire} sample: anonymous Secret refused on /hubs/public", async cancel =>
        {
            await using var anonymous = wire.Build($"{baseUrl}/hubs/public");
            await anonymous.StartAsync(cancel);
            var pong = await anonymous.InvokeAsync<string>("Ping", cancel);
            try
            {
                await anonymous.InvokeAsync<string>("Secret", cancel);
                return new { pong, secret = "answered" };
            }
            catch (HubException error)
            {
                return new { pong, secret = error.Message };
            }
        });
        await report.CaseAsync($"{wire} sample: anonymous /hubs/chat refused", async cancel =>
        {
            await using var anonymous = wire.Build($"{baseUrl}/hubs/chat");
            await anonymous.StartAsync(cancel);
            return "started";
        });
        await report.CaseAsync($"{wire} sample: cross-origin client refused", async cancel =>
        {
            await using var foreign = wire.Build($"{baseUrl}/hubs/public", options => options.Headers["Origin"] = "http://elsewhere.invalid");
            await foreign.StartAsync(cancel);
            return "started";
        });
        await report.CaseAsync($"{wire} sample: invalid access token refused", async cancel =>
        {
            await using var forged = wire.Build($"{baseUrl}/hubs/chat", options => options.AccessTokenProvider = () => Task.FromResult<string?>(token[..^4] + "AAAA"));
            await forged.StartAsync(cancel);
            return "started";
        });
    }
}
