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

        var slo = hostServices.GetRequiredService<SloReportBuilder>();
        var time = hostServices.GetRequiredService<TimeProvider>();
        IResult StatusPageResult() => Results.Content(StatusPage.Render(status.Build(), slo.Build(), time.GetUtcNow()), "text/html; charset=utf-8");

        // The operator's page for a browser; /status stays JSON for scripts unless a browser asks for HTML.
        admin.MapGet("/", StatusPageResult);
        admin.MapGet("/status", (HttpRequest request) => WantsHtml(request) ? StatusPageResult() : Results.Json(status.Build(), Json));
        admin.MapGet("/slo", (HttpRequest request) =>
        {
            var report = slo.Build();
            // A browser asks for HTML; scripts and Prometheus-side tooling get JSON.
            return WantsHtml(request)
                ? Results.Content(SloHtml.Render(report), "text/html; charset=utf-8")
                : Results.Json(report, Json);
        });
        admin.MapGet("/healthz", () => Results.Text("ok\n"));
        admin.MapPost("/admin/reload", () =>
        {
            supervisor.RequestReload();
            return Results.Accepted(value: new { message = "the apps directory will be re-read" });
        });
    }

    private static bool WantsHtml(HttpRequest request) => request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
}
