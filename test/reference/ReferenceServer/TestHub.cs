using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;

namespace ReferenceServer;

public sealed class CustomObject
{
    public string Name { get; set; } = "";
    public int Value { get; set; }
}

/// <summary>ASP.NET Core's functional TestHub, method for method as test/functional/test-hub.ts mirrors it.</summary>
public sealed class TestHub : Hub
{
    public string Echo(string message) => message;

    public string GetCallerConnectionId() => Context.ConnectionId;

    public string GetActiveTransportName() => Context.Features.Get<IHttpTransportFeature>()!.TransportType.ToString();

    public void ThrowException(string message) => throw new InvalidOperationException(message);

    public Task InvokeWithString(string message) => Clients.Caller.SendAsync("Message", message);

    public Task SendCustomObject(CustomObject customObject) => Clients.Caller.SendAsync("CustomObject", customObject);

    public async IAsyncEnumerable<string> Stream()
    {
        foreach (var item in new[] { "a", "b", "c" })
        {
            await Task.Yield();
            yield return item;
        }
    }

    public ChannelReader<string> InfiniteStream(CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<string>();
        var caller = Clients.Caller;
        cancellationToken.Register(() => _ = caller.SendAsync("StreamCanceled"));
        return channel.Reader;
    }

    public async Task<string> StreamingConcat(IAsyncEnumerable<string> stream)
    {
        var text = "";
        await foreach (var item in stream) text += item;
        return text;
    }

    public async IAsyncEnumerable<int> EmptyStream([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        yield break;
    }

    public ChannelReader<string> StreamThrowException(string message) => throw new InvalidOperationException(message);

    public string? GetHeader(string name) => Context.GetHttpContext()!.Request.Headers[name].FirstOrDefault();

    public ComplexObject EchoComplexObject(ComplexObject complexObject) => complexObject;

    public ComplexObject SendComplexObject() => new()
    {
        ByteArray = [0x1, 0x2, 0x3],
        DateTime = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc),
        Guid = new Guid([0, 1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 2, 1, 0]),
        IntArray = [1, 2, 3],
        String = "hello world",
    };
}
