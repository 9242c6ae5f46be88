namespace PyPE.Host.Hosting;

/// <summary>Kestrel settings of the public listener (addresses come from <c>--urls</c> / <c>Kestrel:Endpoints</c>).</summary>
internal static class PublicListenerExtensions
{
    public static WebApplicationBuilder AddPublicListener(this WebApplicationBuilder builder)
    {
        // With inline completions, Kestrel continues on the event thread too: both halves are needed for the gain.
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = InlineSocketIo.Enabled);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Bodies are capped per app (pool.maxRequestBodyBytes) by the dispatcher, which answers 413 itself.
            kestrel.Limits.MaxRequestBodySize = null;
            // WSGI header values are Latin-1 strings (PEP 3333): the worker's bytes go out as they came, as nginx
            // passes them. Control characters are still refused (the dispatcher answers 502).
            kestrel.ResponseHeaderEncodingSelector = static _ => System.Text.Encoding.Latin1;
        });
        builder.Services.Configure<HostOptions>(options =>
        {
            // Kestrel drains its requests first, then the supervisor drains and stops the workers.
            options.ShutdownTimeout = builder.Configuration.GetValue("PyPE:ShutdownTimeout", TimeSpan.FromSeconds(90));
        });
        return builder;
    }
}
