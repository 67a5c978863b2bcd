using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using ReplayProxy.FunctionsHost.Rpc;

namespace ReplayProxy.FunctionsHost;

/// <summary>
/// The host's end of the worker's <c>EventStream</c>: accepts the one worker this host launched (its
/// <c>StartStream.worker_id</c>), queues messages to it and completes the awaiters of its responses.
/// </summary>
internal sealed class WorkerChannel(string workerId)
{
    private readonly Channel<StreamingMessage> _outbound = Channel.CreateUnbounded<StreamingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _awaited = new(StringComparer.Ordinal);

    public string WorkerId { get; } = workerId;

    public Task Connected => _connected.Task;

    public Task Disconnected => _disconnected.Task;

    public void Send(StreamingMessage message) => _outbound.Writer.TryWrite(message);

    /// <summary>
    /// Registers interest in a response before its request goes out. The key is the function id (load), the invocation
    /// id (invocation), the request id (status) or the message name (init and metadata, one each per worker).
    /// </summary>
    public Task<StreamingMessage> Expect(string key)
    {
        var pending = _awaited.GetOrAdd(key, _ => new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously));
        return pending.Task;
    }

    public void Forget(string key) => _awaited.TryRemove(key, out _);

    public async Task RunAsync(IAsyncStreamReader<StreamingMessage> fromWorker, IServerStreamWriter<StreamingMessage> toWorker, CancellationToken cancellationToken)
    {
        if (!await fromWorker.MoveNext(cancellationToken)
            || fromWorker.Current.ContentCase != StreamingMessage.ContentOneofCase.StartStream
            || fromWorker.Current.StartStream.WorkerId != WorkerId
            || !_connected.TrySetResult())
        {
            // As the host: the first message must be StartStream from the worker it started, and only once.
            return;
        }

        var writing = Task.Run(async () =>
        {
            await foreach (var message in _outbound.Reader.ReadAllAsync(cancellationToken))
            {
                await toWorker.WriteAsync(message, cancellationToken);
            }
        }, cancellationToken);

        try
        {
            while (await fromWorker.MoveNext(cancellationToken))
            {
                Dispatch(fromWorker.Current);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or Grpc.Core.RpcException)
        {
            // The worker went away; the awaiters below learn it.
        }
        finally
        {
            _outbound.Writer.TryComplete();
            _disconnected.TrySetResult();
            foreach (var pending in _awaited.Values)
            {
                pending.TrySetException(new IOException("The worker's gRPC stream ended."));
            }
        }

        try
        {
            await writing;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or Grpc.Core.RpcException or InvalidOperationException)
        {
        }
    }

    private void Dispatch(StreamingMessage message)
    {
        var key = message.ContentCase switch
        {
            StreamingMessage.ContentOneofCase.WorkerInitResponse => nameof(StreamingMessage.WorkerInitResponse),
            StreamingMessage.ContentOneofCase.FunctionMetadataResponse => nameof(StreamingMessage.FunctionMetadataResponse),
            StreamingMessage.ContentOneofCase.WorkerStatusResponse => message.RequestId,
            StreamingMessage.ContentOneofCase.FunctionLoadResponse => message.FunctionLoadResponse.FunctionId,
            StreamingMessage.ContentOneofCase.InvocationResponse => message.InvocationResponse.InvocationId,
            StreamingMessage.ContentOneofCase.RpcLog => null,
            _ => null,
        };

        if (message.ContentCase == StreamingMessage.ContentOneofCase.RpcLog && message.RpcLog.Level >= RpcLog.Types.Level.Error)
        {
            // The worker's own errors (a failed invocation, a start-up failure); never request data.
            Console.Error.WriteLine($"worker {message.RpcLog.Level}: {message.RpcLog.Category}: {message.RpcLog.Message} {message.RpcLog.Exception?.Message}");
        }

        if (key is not null && _awaited.TryRemove(key, out var pending))
        {
            pending.TrySetResult(message);
        }
    }
}

/// <summary>The gRPC service the worker connects to (<c>--functions-uri</c>).</summary>
internal sealed class FunctionRpcService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
{
    public override Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context) =>
        channel.RunAsync(requestStream, responseStream, context.CancellationToken);
}
