using Microsoft.Extensions.Options;

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
builder.Services.AddReplayProxy(builder.Configuration);

var app = builder.Build();
app.MapReplayProxy();

try
{
    await app.StartAsync();
}
catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException or IOException)
{
    // Bad settings (or a port in use) end the process with a message that names the problem, not a stack trace.
    await Console.Error.WriteLineAsync($"ReplayProxy failed to start: {ex.Message}");
    return 1;
}

await app.WaitForShutdownAsync();
return 0;
