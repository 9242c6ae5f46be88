namespace PyPE.Host.Dispatch;

internal static class DispatchServiceCollectionExtensions
{
    /// <summary>The pieces of the request path.</summary>
    public static IServiceCollection AddDispatch(this IServiceCollection services)
    {
        services.AddSingleton<ErrorPages>();
        services.AddSingleton<DispatchMiddleware>();
        return services;
    }

    /// <summary>Every public request goes through the dispatcher (it is the whole pipeline).</summary>
    public static WebApplication UseDispatch(this WebApplication app)
    {
        var dispatch = app.Services.GetRequiredService<DispatchMiddleware>();
        app.Run(dispatch.InvokeAsync);
        return app;
    }
}
