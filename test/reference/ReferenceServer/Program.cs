using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using ReferenceServer;

// Run with --urls http://127.0.0.1:0 (and --Bench=true for the benchmark's /bench/gc); prints "listening on <address>" once it accepts connections.
// Configured as the package's functional test server is: detailed errors, property names as declared.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// Timers in milliseconds, e.g. --KeepAliveMs=300: the differential suite shortens them to see them fire.
var timers = builder.Configuration;
builder.Services
    .AddSignalR(options =>
    {
        options.EnableDetailedErrors = true;
        options.KeepAliveInterval = TimeSpan.FromMilliseconds(timers.GetValue("KeepAliveMs", 15_000));
        options.ClientTimeoutInterval = TimeSpan.FromMilliseconds(timers.GetValue("ClientTimeoutMs", 30_000));
        options.HandshakeTimeout = TimeSpan.FromMilliseconds(timers.GetValue("HandshakeTimeoutMs", 15_000));
    })
    .AddJsonProtocol(options => options.PayloadSerializerOptions.PropertyNamingPolicy = null)
    .AddMessagePackProtocol();

var app = builder.Build();
app.UseWebSockets();
app.MapHub<TestHub>("/testhub", options => options.AllowStatefulReconnects = true);
app.MapHub<TestHub>("/testhub-nowebsockets", options => options.Transports = HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling);
app.MapHub<BenchHub>("/hubs/bench");
if (builder.Configuration.GetValue("Bench", false))
{
    // The benchmark's memory figures are taken after full collections, as the Node servers' are.
    app.MapPost("/bench/gc", () =>
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    });
}

// Started by a test or the bench: ends when its parent does (standard input closes with it), even
// when the parent could not stop it.
if (builder.Configuration.GetValue("ExitWithStdin", false))
{
    _ = Task.Run(async () =>
    {
        await Console.In.ReadToEndAsync();
        app.Lifetime.StopApplication();
    });
}

await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"listening on {address}");
await app.WaitForShutdownAsync();
