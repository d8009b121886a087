using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;

namespace InteropClient;

/// <summary>
/// Fails a started connection's transport on demand, as a network failure would: aborts its
/// WebSocket, or fails its Server-Sent Events stream or pending long poll.
/// </summary>
public sealed class TransportDropper(HttpTransportType transport)
{
    private readonly List<ClientWebSocket> sockets = [];
    /// <summary>Open event streams and pending polls, each completed to fail it.</summary>
    private readonly List<TaskCompletionSource> receiving = [];
    /// <summary>Set when a drop found no poll pending (the client was between two): the next one fails.</summary>
    private bool failNextReceive;

    public int SocketsOpened
    {
        get { lock (sockets) return sockets.Count; }
    }

    public void Configure(HttpConnectionOptions options)
    {
        options.WebSocketFactory = async (context, token) =>
        {
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(context.Uri, token);
            lock (sockets) sockets.Add(socket);
            return socket;
        };
        options.HttpMessageHandlerFactory = inner => new DroppingHandler(this, inner);
    }

    public void Drop()
    {
        if (transport == HttpTransportType.WebSockets)
        {
            lock (sockets) sockets[^1].Abort();
            return;
        }
        lock (receiving)
        {
            failNextReceive = receiving.Count == 0;
            foreach (var receive in receiving) receive.TrySetResult();
            receiving.Clear();
        }
    }

    private Task StartReceiving(out TaskCompletionSource? registration)
    {
        lock (receiving)
        {
            registration = null;
            if (failNextReceive)
            {
                failNextReceive = false;
                return Task.CompletedTask;
            }
            registration = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            receiving.Add(registration);
            return registration.Task;
        }
    }

    private void StopReceiving(TaskCompletionSource registration)
    {
        lock (receiving) receiving.Remove(registration);
    }

    /// <summary>The transports receive with GET (an event stream, a poll); everything they send is a POST.</summary>
    private sealed class DroppingHandler(TransportDropper dropper, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method != HttpMethod.Get) return await base.SendAsync(request, cancellationToken);
            var dropped = dropper.StartReceiving(out var registration);
            var sending = base.SendAsync(request, cancellationToken);
            if (await Task.WhenAny(sending, dropped) == dropped)
            {
                _ = sending.ContinueWith(answered => answered.Result.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion);
                throw new HttpRequestException("The connection was dropped.");
            }
            var response = await sending;
            if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                // The stream stays open after its headers: disposing the answer fails the client's read.
                _ = dropped.ContinueWith(_ => response.Dispose(), TaskScheduler.Default);
            }
            else if (registration is not null)
            {
                dropper.StopReceiving(registration);
            }
            return response;
        }
    }
}
