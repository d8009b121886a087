using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace InteropClient;

/// <summary>A wire protocol and a transport: what each case runs over.</summary>
public sealed record Wire(string Protocol, HttpTransportType Transport)
{
    /// <summary>Server-Sent Events carry text only, so MessagePack never runs over them.</summary>
    public static readonly IReadOnlyList<Wire> All =
    [
        new("json", HttpTransportType.WebSockets),
        new("json", HttpTransportType.ServerSentEvents),
        new("json", HttpTransportType.LongPolling),
        new("messagepack", HttpTransportType.WebSockets),
        new("messagepack", HttpTransportType.LongPolling),
    ];

    public override string ToString() => $"{Protocol}/{Transport}";

    public HubConnection Build(string url, Action<HttpConnectionOptions>? configure = null, Action<IHubConnectionBuilder>? extend = null)
    {
        var builder = new HubConnectionBuilder().WithUrl(url, Transport, options => configure?.Invoke(options));
        // Property names as declared, as the test hub (and ASP.NET Core's functional test server) expects them.
        if (Protocol == "messagepack") builder.AddMessagePackProtocol();
        else builder.AddJsonProtocol(options => options.PayloadSerializerOptions.PropertyNamingPolicy = null);
        extend?.Invoke(builder);
        return builder.Build();
    }
}
