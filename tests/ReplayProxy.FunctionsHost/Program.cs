using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ReplayProxy.FunctionsHost;
using ReplayProxy.FunctionsHost.Rpc;

// A stand-in for the Azure Functions host: launches the built worker, drives it over gRPC and forwards HTTP to it.
using var shutdown = new CancellationTokenSource();
var signals = new List<PosixSignalRegistration>();
foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
{
    signals.Add(PosixSignalRegistration.Create(signal, context =>
    {
        context.Cancel = true;
        shutdown.Cancel();
    }));
}

var front = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
QuietLogging(front.Logging);
front.Services.AddSingleton<IHostLifetime, ExternalLifetime>();

FunctionApp app;
CorsPolicy? platformCors;
try
{
    app = FunctionApp.Load(front.Configuration["WorkerDirectory"] ?? FunctionApp.DefaultDirectory());
    platformCors = PlatformCors.From(front.Configuration);
}
catch (Exception ex) when (ex is IOException or InvalidOperationException)
{
    await Console.Error.WriteLineAsync($"ReplayProxy.FunctionsHost failed to start: {ex.Message}");
    return 1;
}

var channel = new WorkerChannel(Guid.NewGuid().ToString());
var grpcBuilder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
QuietLogging(grpcBuilder.Logging);
grpcBuilder.Services.AddSingleton<IHostLifetime, ExternalLifetime>();
grpcBuilder.Services.AddSingleton(channel);
grpcBuilder.Services.AddGrpc(options =>
{
    options.MaxReceiveMessageSize = null;
    options.MaxSendMessageSize = null;
});
grpcBuilder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
await using var grpc = grpcBuilder.Build();
grpc.MapGrpcService<FunctionRpcService>();
// Listening before the worker starts: the worker connects as soon as it runs.
await grpc.StartAsync(shutdown.Token);
var functionsUri = new Uri(grpc.Urls.First() + "/");

using var worker = WorkerProcess.Start(app, functionsUri, channel.WorkerId, Guid.NewGuid().ToString());
Console.WriteLine($"ReplayProxy.FunctionsHost: started worker process {worker.Id} ({app.WorkerPath})");
AppDomain.CurrentDomain.ProcessExit += (_, _) => worker.Kill();
WebApplication? http = null;
try
{
    await UntilDone(channel.Connected, TimeSpan.FromSeconds(60), "connect (StartStream)");

    var init = channel.Expect(nameof(StreamingMessage.WorkerInitResponse));
    channel.Send(new StreamingMessage
    {
        RequestId = Guid.NewGuid().ToString(),
        WorkerInitRequest = new WorkerInitRequest
        {
            HostVersion = "4.0.0-ReplayProxy.FunctionsHost",
            WorkerDirectory = app.Directory,
            FunctionAppDirectory = app.Directory,
            Capabilities = { ["MultiStream"] = "10" },
        },
    });
    var initResponse = (await Until(init, TimeSpan.FromSeconds(10), "answer WorkerInitRequest")).WorkerInitResponse;
    Require(initResponse.Result, "WorkerInitRequest");
    if (!initResponse.Capabilities.TryGetValue("HttpUri", out var httpUri) || string.IsNullOrEmpty(httpUri))
    {
        throw new InvalidOperationException("The worker did not advertise HttpUri: is ASP.NET Core integration configured?");
    }

    var metadata = channel.Expect(nameof(StreamingMessage.FunctionMetadataResponse));
    channel.Send(new StreamingMessage
    {
        RequestId = Guid.NewGuid().ToString(),
        FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = app.Directory },
    });
    var metadataResponse = (await Until(metadata, TimeSpan.FromMinutes(1), "send its function metadata")).FunctionMetadataResponse;
    Require(metadataResponse.Result, "FunctionsMetadataRequest");
    if (metadataResponse.UseDefaultMetadataIndexing)
    {
        throw new InvalidOperationException("The worker asked for host indexing, which this test host does not do.");
    }

    var loads = new List<Task<StreamingMessage>>();
    foreach (var function in metadataResponse.FunctionMetadataResults)
    {
        loads.Add(channel.Expect(function.FunctionId));
        var loaded = function.Clone();
        loaded.Directory = app.Directory;
        channel.Send(new StreamingMessage
        {
            RequestId = Guid.NewGuid().ToString(),
            FunctionLoadRequest = new FunctionLoadRequest { FunctionId = function.FunctionId, Metadata = loaded },
        });
    }

    foreach (var load in await Until(Task.WhenAll(loads), TimeSpan.FromMinutes(1), "load its functions"))
    {
        Require(load.FunctionLoadResponse.Result, "FunctionLoadRequest " + load.FunctionLoadResponse.FunctionId);
    }

    var routes = FunctionRouteTable.From(metadataResponse.FunctionMetadataResults, app.RoutePrefix);
    long? bodySizeLimit = long.TryParse(front.Configuration["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"], out var limit) ? limit : null;
    front.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = FunctionInvoker.DefaultMaxRequestBodySize);
    front.Services.AddHttpForwarder();
    if (platformCors is not null)
    {
        front.Services.AddCors();
    }

    http = front.Build();
    if (platformCors is not null)
    {
        // Ahead of routing, as the host's own middleware, with the policy object as the host passes it. Only when
        // CORS_ALLOWED_ORIGINS is set: without it this stands for Functions on a plan without platform CORS.
        http.UseMiddleware<CorsMiddleware>(platformCors);
    }

    var invoker = new FunctionInvoker(
        routes,
        channel,
        new Uri(httpUri),
        app.FunctionTimeout,
        http.Services.GetRequiredService<Yarp.ReverseProxy.Forwarder.IHttpForwarder>(),
        FunctionInvoker.CreateInvoker(),
        http.Services.GetRequiredService<ILogger<FunctionInvoker>>());
    var homepageDisabled = string.Equals(front.Configuration["AzureWebJobsDisableHomepage"], bool.TrueString, StringComparison.OrdinalIgnoreCase);
    http.Run(context => invoker.InvokeAsync(context, bodySizeLimit, homepageDisabled));
    await http.StartAsync(shutdown.Token);
    Console.WriteLine(
        $"ReplayProxy.FunctionsHost: listening on {string.Join(", ", http.Urls)}; worker at {httpUri}; " +
        (platformCors is null ? "" : $"platform CORS for {string.Join(", ", platformCors.Origins)}{(platformCors.SupportsCredentials ? " with credentials" : "")}; ") +
        $"routes: {string.Join(", ", routes.Functions.Select(f => $"{f.Name} /{f.Template} [{string.Join(',', f.Methods)}]"))}");

    await Task.WhenAny(worker.Exited, channel.Disconnected, Task.Delay(Timeout.Infinite, shutdown.Token));
    if (worker.Exited.IsCompleted)
    {
        throw new WorkerExitedException(await worker.Exited);
    }

    return 0;
}
catch (WorkerExitedException ex)
{
    await Console.Error.WriteLineAsync($"ReplayProxy.FunctionsHost: {ex.Message}");
    return ex.ExitCode == 0 ? 1 : ex.ExitCode;
}
catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
{
    return 0;
}
catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException)
{
    await Console.Error.WriteLineAsync($"ReplayProxy.FunctionsHost failed: {ex.Message}");
    return 1;
}
finally
{
    if (http is not null)
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await http.StopAsync(stopping.Token);
        await http.DisposeAsync();
    }

    // As the host: WorkerTerminate with a 5 s grace period, then up to 5 s for the worker to exit, then kill.
    channel.Send(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) } });
    await worker.StopAsync(TimeSpan.FromSeconds(5));
    using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
    {
        await grpc.StopAsync(stopping.Token);
    }

    foreach (var registration in signals)
    {
        registration.Dispose();
    }
}

// Awaits a step of the start-up, failing early when the worker exits or the host is told to stop.
async Task<T> Until<T>(Task<T> step, TimeSpan timeout, string what)
{
    await UntilDone(step, timeout, what);
    return await step;
}

async Task UntilDone(Task step, TimeSpan timeout, string what)
{
    var finished = await Task.WhenAny(step, worker.Exited, Task.Delay(timeout, shutdown.Token));
    if (finished == step)
    {
        await step;
        return;
    }

    if (finished == worker.Exited)
    {
        throw new WorkerExitedException(await worker.Exited);
    }

    shutdown.Token.ThrowIfCancellationRequested();
    throw new TimeoutException($"The worker did not {what} within {timeout.TotalSeconds:0} s.");
}

static void Require(StatusResult result, string what)
{
    if (result.Status != StatusResult.Types.Status.Success)
    {
        throw new InvalidOperationException($"The worker failed {what}: {result.Exception?.Message ?? result.Result}");
    }
}

// Warnings and errors only; never the framework's per-request lines (their URLs carry keys and queries).
static void QuietLogging(ILoggingBuilder logging)
{
    logging.ClearProviders();
    logging.AddSimpleConsole(console => console.SingleLine = true);
    logging.SetMinimumLevel(LogLevel.Warning);
    logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
    logging.AddFilter("Yarp", LogLevel.None);
}
