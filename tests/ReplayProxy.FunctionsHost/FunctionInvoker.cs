using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http.Features;
using ReplayProxy.FunctionsHost.Rpc;
using ReplayProxy.Testing;
using Yarp.ReverseProxy.Forwarder;

namespace ReplayProxy.FunctionsHost;

/// <summary>
/// The host's handling of one HTTP request: route it (404 when no trigger lists the path and method), read a
/// Content-Length body whole as the host's trigger binding does, add the App Service front end's headers, start the
/// YARP forward to the worker's <c>HttpUri</c> with <c>x-ms-invocation-id</c>, send the matching InvocationRequest,
/// and wait for both. The worker writes the response; this never does, except for its own 404, 413 and a failure before any response started.
/// </summary>
internal sealed partial class FunctionInvoker(
    FunctionRouteTable routes,
    WorkerChannel channel,
    Uri workerUri,
    TimeSpan functionTimeout,
    IHttpForwarder forwarder,
    HttpMessageInvoker invoker,
    ILogger<FunctionInvoker> logger)
{
    public const string InvocationIdHeader = "x-ms-invocation-id";

    /// <summary>The host's Kestrel limit (100 MB); <c>FUNCTIONS_REQUEST_BODY_SIZE_LIMIT</c> (bytes) overrides it.</summary>
    public const long DefaultMaxRequestBodySize = 104_857_600;

    private static readonly ForwarderRequestConfig ForwardConfig = new() { ActivityTimeout = TimeSpan.FromSeconds(240) };

    public async Task InvokeAsync(HttpContext context, long? bodySizeLimit, bool homepageDisabled)
    {
        var match = routes.Match(context.Request.Method, context.Request.Path);
        if (match is not { } found)
        {
            // As the host's HomepageMiddleware: "/" with no function for it is the home page, or 204 when
            // AzureWebJobsDisableHomepage is "true"; any other unmatched request is ASP.NET Core's empty 404.
            if (context.Request.Path.Value == "/")
            {
                await WriteHomepageAsync(context, homepageDisabled);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (bodySizeLimit is { } limit && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        if (context.Request.ContentLength > 0)
        {
            try
            {
                context.Request.EnableBuffering();
                await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
                context.Request.Body.Position = 0;
            }
            catch (BadHttpRequestException ex)
            {
                context.Response.StatusCode = ex.StatusCode;
                return;
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                return;
            }
        }

        AddFrontEndHeaders(context);
        var invocationId = Guid.NewGuid().ToString();
        context.Request.Headers[InvocationIdHeader] = invocationId;
        var invocation = channel.Expect(invocationId);

        // As the host: the forward starts first, then the invocation is sent; the worker pairs them by the header.
        var forward = forwarder.SendAsync(context, workerUri.AbsoluteUri, invoker, ForwardConfig, HttpTransformer.Default).AsTask();
        channel.Send(new StreamingMessage { InvocationRequest = Request(invocationId, found.Function, found.Values) });

        StatusResult? result = null;
        try
        {
            var response = await invocation.WaitAsync(functionTimeout);
            result = response.InvocationResponse.Result;
        }
        catch (Exception ex) when (ex is TimeoutException or IOException)
        {
            channel.Forget(invocationId);
            LogInvocationFailed(logger, found.Function.Name, ex.GetType().Name);
        }

        var error = await forward;
        if (error != ForwarderError.None && !context.RequestAborted.IsCancellationRequested)
        {
            LogForwardFailed(logger, found.Function.Name, error);
        }

        if (result is not { Status: StatusResult.Types.Status.Success })
        {
            if (result is not null)
            {
                LogInvocationFailed(logger, found.Function.Name, $"{result.Status} {result.Exception?.Message}");
            }

            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }
        }
    }

    private static Task WriteHomepageAsync(HttpContext context, bool disabled)
    {
        if (disabled)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/html";
        return context.Response.WriteAsync("<html><body>Your Functions app is up and running</body></html>");
    }

    /// <summary>What the App Service front end adds before the host sees the request (<see cref="AppServiceFrontEnd"/>).</summary>
    private static void AddFrontEndHeaders(HttpContext context)
    {
        var client = new IPEndPoint(context.Connection.RemoteIpAddress ?? IPAddress.Loopback, context.Connection.RemotePort);
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path + context.Request.QueryString;
        foreach (var (name, value) in AppServiceFrontEnd.Headers(client, target))
        {
            context.Request.Headers[name] = value;
        }
    }

    private static InvocationRequest Request(string invocationId, HttpFunction function, RouteValueDictionary values)
    {
        var request = new InvocationRequest
        {
            InvocationId = invocationId,
            FunctionId = function.FunctionId,
            // The host always sends its trace context (the worker reads it unconditionally); the W3C id of its request.
            TraceContext = new RpcTraceContext
            {
                TraceParent = Activity.Current?.Id ?? string.Empty,
                TraceState = Activity.Current?.TraceStateString ?? string.Empty,
            },
        };
        // With HttpUri the trigger's binding is an empty RpcHttp: the request itself arrives over HTTP.
        request.InputData.Add(new ParameterBinding { Name = function.TriggerName, Data = new TypedData { Http = new RpcHttp() } });
        foreach (var (name, value) in values)
        {
            // A null value (an empty catch-all) is left out, as the host leaves it out.
            if (value is not null)
            {
                request.TriggerMetadata[name] = new TypedData { String = Convert.ToString(value, CultureInfo.InvariantCulture) };
            }
        }

        return request;
    }

    /// <summary>The forwarding client of the host: no redirects, no cookies, no proxy, retried while the worker starts.</summary>
    public static HttpMessageInvoker CreateInvoker() => new(new RetryingHttpHandler(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    }));

    // Function names and error kinds only: never a URL, a query or a header.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding to the worker failed for function {Function}: {Error}")]
    private static partial void LogForwardFailed(ILogger logger, string function, ForwarderError error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Invocation of function {Function} did not succeed: {Outcome}")]
    private static partial void LogInvocationFailed(ILogger logger, string function, string outcome);
}
