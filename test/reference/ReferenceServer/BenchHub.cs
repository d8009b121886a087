using Microsoft.AspNetCore.SignalR;

namespace ReferenceServer;

/// <summary>The bench hub of bench/harness/servers/signalr.ts, for the ASP.NET Core rows of the benchmark.</summary>
public sealed class BenchHub : Hub
{
    public object Echo(object x) => x;

    public Task JoinGroup(string name) => Groups.AddToGroupAsync(Context.ConnectionId, name);

    public Task Broadcast(string group, object payload) => Clients.Group(group).SendAsync("tick", payload);
}
