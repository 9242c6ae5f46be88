using System.Text.Json;
using PyPE.Host.Slo;
using PyPE.Supervisor.Supervision;

namespace PyPE.Host.Admin;

/// <summary>The admin API on the admin listener.</summary>
internal static class AdminEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void MapAdminEndpoints(this WebApplication admin, IServiceProvider hostServices)
    {
        var status = hostServices.GetRequiredService<StatusReportBuilder>();
        var supervisor = hostServices.GetRequiredService<SupervisorService>();

        admin.MapGet("/status", () => Results.Json(status.Build(), Json));
        var slo = hostServices.GetRequiredService<SloReportBuilder>();
        admin.MapGet("/slo", (HttpRequest request) =>
        {
            var report = slo.Build();
            // A browser asks for HTML; scripts and Prometheus-side tooling get JSON.
            return request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase)
                ? Results.Content(SloHtml.Render(report), "text/html; charset=utf-8")
                : Results.Json(report, Json);
        });
        admin.MapGet("/healthz", () => Results.Text("ok\n"));
        admin.MapPost("/admin/reload", () =>
        {
            supervisor.RequestReload();
            return Results.Accepted(value: new { message = "the apps directory will be re-read" });
        });
        admin.MapGet("/", () => Results.Text("PyPE.Exec admin listener: GET /status, GET /slo, GET /metrics, GET /healthz, POST /admin/reload\n"));
    }
}
