using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using ReplayProxy;
using ReplayProxy.Server;

// The content root is the working directory, as in any ASP.NET Core app: an appsettings.json there is read. The
// appsettings.json shipped next to the binary is read first, as defaults that the working directory's file overrides.
var builder = WebApplication.CreateSlimBuilder(args);
AddShippedDefaults(builder.Configuration);
// The host logs a start failure as an error with its stack trace; the catch below prints the one line that matters.
builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
builder.WebHost.ConfigureKestrel((context, kestrel) =>
{
    kestrel.AddServerHeader = false;
    // The slim builder does not bind Kestrel:Limits; bind it so that limits can be set in appsettings.json or the
    // environment (Kestrel__Limits__MaxRequestHeaderCount, Kestrel__Limits__MinRequestBodyDataRate__BytesPerSecond, ...).
    var limits = context.Configuration.GetSection("Kestrel:Limits");
    limits.Bind(kestrel.Limits);
    kestrel.Limits.MinRequestBodyDataRate = DataRate(limits.GetSection("MinRequestBodyDataRate"), kestrel.Limits.MinRequestBodyDataRate);
    kestrel.Limits.MinResponseDataRate = DataRate(limits.GetSection("MinResponseDataRate"), kestrel.Limits.MinResponseDataRate);
});
builder.Services.AddReplayProxy(builder.Configuration);
builder.AddOtlpExportWhenConfigured();

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

static void AddShippedDefaults(ConfigurationManager configuration)
{
    var shipped = new JsonConfigurationSource
    {
        Path = "appsettings.json",
        Optional = true,
        FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
    };
    var first = configuration.Sources.TakeWhile(source => source is not JsonConfigurationSource).Count();
    configuration.Sources.Insert(first, shipped);
}

// MinDataRate has no setters, so configuration binding cannot fill it in place: BytesPerSecond and GracePeriod.
static MinDataRate? DataRate(IConfigurationSection section, MinDataRate? current) =>
    section.GetValue<double?>("BytesPerSecond") is { } bytesPerSecond
        ? new MinDataRate(bytesPerSecond, section.GetValue<TimeSpan?>("GracePeriod") ?? current?.GracePeriod ?? TimeSpan.FromSeconds(5))
        : current;
