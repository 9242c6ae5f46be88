using PyPE.Host.Admin;
using PyPE.Host.Dispatch;
using PyPE.Host.Logging;
using PyPE.Host.Metrics;
using PyPE.Host.Probes;
using PyPE.Host.Routing;
using PyPE.Host.Slo;
using PyPE.Host.Systemd;

namespace PyPE.Host.Hosting;

/// <summary>Composes the host: one line per concern.</summary>
public static class PyPEApplication
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        builder.AddPyPELogging();
        builder.AddPublicListener();
        builder.Services.AddSupervisor(builder.Configuration);
        builder.Services.AddAppRouting(builder.Configuration);
        builder.Services.AddDispatch();
        builder.Services.AddPyPEMetrics(builder.Configuration);
        builder.Services.AddSloLedger(builder.Configuration);
        builder.Services.AddSyntheticProbes();
        builder.Services.AddAdminListener(builder.Configuration);
        builder.Services.AddSystemdIntegration();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseDispatch();
        return app;
    }
}
