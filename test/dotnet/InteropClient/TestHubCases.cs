using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using ReferenceServer;

namespace InteropClient;

/// <summary>Cases against the functional test hub (test/functional/test-hub.ts) at /testhub.</summary>
public sealed class TestHubCases(string baseUrl, Report report)
{
    private const string Message = "你好，世界！";
    private readonly HttpClient http = new();

    public async Task RunAsync()
    {
        foreach (var wire in Wire.All) await OverWireAsync(wire);
        foreach (var wire in Wire.All) await ReconnectsAsync(wire);
    }

    private async Task OverWireAsync(Wire wire)
    {
        await using var connection = wire.Build($"{baseUrl}/testhub");
        connection.On("Result", () => 10);
        var canceled = new TaskCompletionSource();
        connection.On("StreamCanceled", () => canceled.TrySetResult());
        var started = false;
        await report.CaseAsync($"{wire} start", async token =>
        {
            await connection.StartAsync(token);
            started = true;
            return connection.State.ToString();
        });
        if (!started) return;

        await report.CaseAsync($"{wire} Echo", async token => await connection.InvokeAsync<string>("Echo", Message, token));
        await report.CaseAsync($"{wire} GetActiveTransportName", async token => await connection.InvokeAsync<string>("GetActiveTransportName", token));
        await report.CaseAsync($"{wire} GetCallerConnectionId is the client's ConnectionId", async token =>
            await connection.InvokeAsync<string>("GetCallerConnectionId", token) == connection.ConnectionId);
        await report.CaseAsync($"{wire} SendComplexObject", async token => Describe(await connection.InvokeAsync<ComplexObject>("SendComplexObject", token)));
        await report.CaseAsync($"{wire} EchoComplexObject", async token =>
        {
            var sent = new ComplexObject
            {
                String = "hello world",
                IntArray = [1, 2, 3],
                ByteArray = [0xA, 0xB, 0xC],
                Guid = Guid.Parse("00010203-0405-0607-0706-050403020100"),
                DateTime = new DateTime(2002, 2, 2, 2, 2, 2, DateTimeKind.Utc),
            };
            return Describe(await connection.InvokeAsync<ComplexObject>("EchoComplexObject", sent, token));
        });
        await report.CaseAsync($"{wire} InvokeWithString calls back Message", async token =>
        {
            var received = new TaskCompletionSource<string>();
            using var handler = connection.On<string>("Message", text => received.TrySetResult(text));
            await connection.InvokeAsync("InvokeWithString", Message, token);
            return await received.Task.WaitAsync(token);
        });
        await report.CaseAsync($"{wire} Stream as IAsyncEnumerable", async token =>
        {
            var items = new List<string>();
            await foreach (var item in connection.StreamAsync<string>("Stream", token)) items.Add(item);
            return items;
        });
        await report.CaseAsync($"{wire} Stream as ChannelReader", async token =>
        {
            var reader = await connection.StreamAsChannelAsync<string>("Stream", token);
            var items = new List<string>();
            await foreach (var item in reader.ReadAllAsync(token)) items.Add(item);
            return items;
        });
        await report.CaseAsync($"{wire} EmptyStream", async token =>
        {
            var count = 0;
            await foreach (var _ in connection.StreamAsync<int>("EmptyStream", token)) count++;
            return count;
        });
        await report.CaseAsync($"{wire} StreamThrowException", async token =>
        {
            await foreach (var _ in connection.StreamAsync<string>("StreamThrowException", "An error occurred.", token)) { }
            return "completed";
        });
        await report.CaseAsync($"{wire} InfiniteStream canceled by the client", async token =>
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(token);
            var reader = await connection.StreamAsChannelAsync<string>("InfiniteStream", cancel.Token);
            cancel.Cancel();
            await canceled.Task.WaitAsync(token);
            return "StreamCanceled";
        });
        await report.CaseAsync($"{wire} StreamingConcat from IAsyncEnumerable", async token =>
            await connection.InvokeAsync<string>("StreamingConcat", Items(["a", "b", "c"]), token));
        await report.CaseAsync($"{wire} StreamingConcat from ChannelReader", async token =>
        {
            var channel = Channel.CreateUnbounded<string>();
            var result = connection.InvokeAsync<string>("StreamingConcat", channel.Reader, token);
            foreach (var item in new[] { "x", "y", "z" }) await channel.Writer.WriteAsync(item, token);
            channel.Writer.Complete();
            return await result;
        });
        await report.CaseAsync($"{wire} ThrowException with detailed errors", async token =>
        {
            await connection.InvokeAsync("ThrowException", "An error occurred.", token);
            return "returned";
        });
        await report.CaseAsync($"{wire} client result", async token =>
            await http.GetStringAsync($"{baseUrl}/clientresult/{connection.ConnectionId}", token));
        await report.CaseAsync($"{wire} unknown method", async token =>
        {
            await connection.InvokeAsync("NoSuchMethod", token);
            return "returned";
        });
        await report.CaseAsync($"{wire} stop", async token =>
        {
            var closed = new TaskCompletionSource<Exception?>();
            connection.Closed += error => { closed.TrySetResult(error); return Task.CompletedTask; };
            await connection.StopAsync(token);
            return (await closed.Task.WaitAsync(token))?.Message ?? "closed without error";
        });
    }

    private static object Describe(ComplexObject value) => new
    {
        value.String,
        value.IntArray,
        ByteArray = Convert.ToHexString(value.ByteArray),
        Guid = value.Guid.ToString(),
        DateTime = value.DateTime.ToUniversalTime().ToString("O"),
    };

    private static async IAsyncEnumerable<string> Items(string[] items, [EnumeratorCancellation] CancellationToken token = default)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            token.ThrowIfCancellationRequested();
            yield return item;
        }
    }

    /// <summary>Drops the transport under a started connection, as a network failure would.</summary>
    private async Task ReconnectsAsync(Wire wire)
    {
        var dropper = new TransportDropper(wire.Transport);
        HubConnection Build(Action<IHubConnectionBuilder> extend) => wire.Build($"{baseUrl}/testhub", dropper.Configure, extend);

        await report.CaseAsync($"{wire} automatic reconnect after a dropped transport", async token =>
        {
            await using var connection = Build(builder => builder.WithAutomaticReconnect());
            var reconnected = new TaskCompletionSource<string?>();
            var reconnecting = false;
            connection.Reconnecting += _ => { reconnecting = true; return Task.CompletedTask; };
            connection.Reconnected += id => { reconnected.TrySetResult(id); return Task.CompletedTask; };
            await connection.StartAsync(token);
            var firstId = connection.ConnectionId;
            dropper.Drop();
            var newId = await reconnected.Task.WaitAsync(token);
            return new
            {
                reconnecting,
                newConnectionId = newId != firstId,
                echo = await connection.InvokeAsync<string>("Echo", Message, token),
            };
        });
        // Only WebSockets resume a connection: the official clients use stateful reconnect on no other transport.
        if (wire.Transport != HttpTransportType.WebSockets) return;
        await report.CaseAsync($"{wire} stateful reconnect after a dropped socket", async token =>
        {
            await using var connection = Build(builder => builder.WithStatefulReconnect());
            var reconnecting = false;
            connection.Reconnecting += _ => { reconnecting = true; return Task.CompletedTask; };
            var received = new TaskCompletionSource<string>();
            connection.On<string>("Message", text => received.TrySetResult(text));
            await connection.StartAsync(token);
            var firstId = connection.ConnectionId;
            var socketsBefore = dropper.SocketsOpened;
            dropper.Drop();
            // Sent while the socket is gone or coming back: the buffers on both sides carry it over.
            await connection.InvokeAsync("InvokeWithString", Message, token);
            return new
            {
                reconnecting,
                sameConnectionId = await connection.InvokeAsync<string>("GetCallerConnectionId", token) == firstId,
                socketsOpened = dropper.SocketsOpened - socketsBefore,
                message = await received.Task.WaitAsync(token),
            };
        });
    }
}
