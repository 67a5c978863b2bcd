using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ReplayProxy.Functions;

var builder = FunctionsApplication.CreateBuilder(args);
ReplayFunctionsApp.Configure(builder);
using var host = builder.Build();

try
{
    await host.StartAsync();
}
catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException)
{
    // Bad ReplayProxy__* settings (invalid, or not convertible to the setting's type) stop the worker with a message
    // that names each setting (the host logs it).
    await Console.Error.WriteLineAsync($"ReplayProxy failed to start: {ex.Message}");
    return 1;
}

await host.WaitForShutdownAsync();
return 0;
