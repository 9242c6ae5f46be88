using PyPE.Host.Hosting;

// The host's table of contents is PyPEApplication.Build: logging, supervisor, dispatch, static files,
// metrics, admin listener and systemd integration, one line each. Tests build the very same host.
var app = PyPEApplication.Build(args);
await app.RunAsync();
