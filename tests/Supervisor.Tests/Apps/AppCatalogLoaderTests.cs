using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Runtimes;
using PyPE.Supervisor.Tests.TestSupport;

namespace PyPE.Supervisor.Tests.Apps;

public sealed class AppCatalogLoaderTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _appsDirectory;
    private readonly string _siteDirectory;

    private readonly RuntimeCatalog _runtimes = new(
        new Dictionary<string, RuntimeDefinition>
        {
            ["311"] = new() { Id = "311", Python = "/usr/bin/python3", Version = "3.11.2" },
            ["system"] = new() { Id = "system", Python = "/usr/bin/python3", Version = "3.11.2", Origin = "default" },
            ["39"] = new() { Id = "39", Python = "/opt/python39/bin/python3", Error = "the interpreter '/opt/python39/bin/python3' does not exist" },
        },
        []);

    public AppCatalogLoaderTests()
    {
        _appsDirectory = _temp.CreateDirectory("apps");
        _siteDirectory = _temp.CreateDirectory("site");
    }

    public void Dispose() => _temp.Dispose();

    private void WriteApp(string name, string runtime = "311", string pathPrefix = "/", string hosts = "[]") =>
        File.WriteAllText(Path.Combine(_appsDirectory, name + ".json"), $$"""
            {
              "runtime": "{{runtime}}",
              "root": "{{_siteDirectory}}",
              "wsgi": "app:application",
              "route": { "pathPrefix": "{{pathPrefix}}", "hosts": {{hosts}} }
            }
            """);

    [Fact]
    public void Load_OneBadFile_DoesNotKeepTheGoodOneOut()
    {
        WriteApp("good", pathPrefix: "/good");
        File.WriteAllText(Path.Combine(_appsDirectory, "bad.json"), """{ "runtime": "311", "pool": { "maxWorker": 2 } }""");
        File.WriteAllText(Path.Combine(_appsDirectory, "notes.txt"), "not an app file");

        var catalog = AppCatalogLoader.Load(_appsDirectory, _runtimes);

        var good = Assert.Single(catalog.Apps);
        Assert.Equal("good", good.Name);
        var (name, errors) = Assert.Single(catalog.Rejected);
        Assert.Equal("bad", name);
        Assert.Contains(errors, e => e.Key == "pool.maxWorker");
        Assert.Contains(errors, e => e.Key == "wsgi");
        Assert.All(errors, e => Assert.Equal(Path.Combine(_appsDirectory, "bad.json"), e.Source));
    }

    [Fact]
    public void Load_UnknownRuntime_ListsTheKnownIds()
    {
        WriteApp("shop", runtime: "313");

        var catalog = AppCatalogLoader.Load(_appsDirectory, _runtimes);

        Assert.Empty(catalog.Apps);
        var error = Assert.Single(catalog.Rejected["shop"]);
        Assert.Equal("runtime", error.Key);
        Assert.Contains("unknown platform version '313'", error.Message, StringComparison.Ordinal);
        Assert.Contains("known: 311, 39, system", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RuntimeWithAnError_RejectsItsApps()
    {
        WriteApp("legacy", runtime: "39");

        var catalog = AppCatalogLoader.Load(_appsDirectory, _runtimes);

        Assert.Empty(catalog.Apps);
        var error = Assert.Single(catalog.Rejected["legacy"]);
        Assert.Equal("runtime", error.Key);
        Assert.Contains("'39' is unavailable", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SameRouteTwice_RejectsTheSecond()
    {
        WriteApp("alpha", pathPrefix: "/shop");
        WriteApp("beta", pathPrefix: "/shop/");

        var catalog = AppCatalogLoader.Load(_appsDirectory, _runtimes);

        Assert.Equal("alpha", Assert.Single(catalog.Apps).Name);
        var error = Assert.Single(catalog.Rejected["beta"]);
        Assert.Equal("route", error.Key);
        Assert.Contains("'alpha'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SamePrefixOnDifferentHosts_KeepsBoth()
    {
        WriteApp("alpha", hosts: """["a.example.com"]""");
        WriteApp("beta", hosts: """["b.example.com"]""");

        var catalog = AppCatalogLoader.Load(_appsDirectory, _runtimes);

        Assert.Equal(["alpha", "beta"], catalog.Apps.Select(a => a.Name));
        Assert.Empty(catalog.Rejected);
    }

    [Fact]
    public void Load_RejectedApp_DoesNotClaimItsRoute()
    {
        // "alpha" is rejected (unknown runtime), so "beta" may have the same route.
        WriteApp("alpha", runtime: "313", pathPrefix: "/shop");
        WriteApp("beta", pathPrefix: "/shop");

        var catalog = AppCatalogLoader.Load(_appsDirectory, _runtimes);

        Assert.Equal("beta", Assert.Single(catalog.Apps).Name);
        Assert.Equal("alpha", Assert.Single(catalog.Rejected).Key);
    }
}
