using PyPE.Supervisor.Apps;
using PyPE.Supervisor.Tests.TestSupport;

namespace PyPE.Supervisor.Tests.Apps;

public sealed class AppFileParserTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _appsDirectory;
    private readonly string _siteDirectory;

    public AppFileParserTests()
    {
        _appsDirectory = _temp.CreateDirectory("apps");
        _siteDirectory = _temp.CreateDirectory("site");
        _temp.CreateDirectory("site", "static");
    }

    public void Dispose() => _temp.Dispose();

    private string AppFile(string name = "shop") => Path.Combine(_appsDirectory, name + ".json");

    /// <summary>A valid app file, with <paramref name="extra"/> (JSON members, each followed by a comma) added.</summary>
    private string ValidJson(string extra = "") => $$"""
        {
          {{extra}}
          "runtime": "311",
          "root": "{{_siteDirectory}}",
          "wsgi": "shop.wsgi:application",
          "route": { "pathPrefix": "/shop/" }
        }
        """;

    private static ConfigError ErrorFor(IReadOnlyList<ConfigError> errors, string key)
    {
        var matching = errors.Where(e => e.Key == key).ToList();
        Assert.True(matching.Count == 1, $"expected one error for '{key}', got: {string.Join(" | ", errors)}");
        return matching[0];
    }

    [Fact]
    public void Parse_ValidFile_AppliesDefaults()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "static": { "/static/": "static" },
            """));

        Assert.Empty(errors);
        Assert.NotNull(app);
        Assert.Equal("shop", app.Name);
        Assert.Equal(AppFile(), app.SourceFile);
        Assert.Equal("311", app.Runtime);
        Assert.Equal(_siteDirectory, app.Root);
        Assert.Equal("shop.wsgi:application", app.Wsgi);
        Assert.Equal("/shop", app.Route.PathPrefix);
        Assert.Empty(app.Route.Hosts);
        Assert.Empty(app.Environment);
        Assert.Equal(Path.Combine(_siteDirectory, "static"), Assert.Single(app.StaticDirectories, s => s.Key == "/static").Value);
        Assert.Equal(new PoolSettings(), app.Pool);
        Assert.Equal(1, app.Pool.MinWorkers);
        Assert.Equal(4, app.Pool.MaxWorkers);
        Assert.Equal(TimeSpan.FromSeconds(30), app.Pool.QueueTimeout);
        Assert.NotEmpty(app.Fingerprint);
    }

    [Fact]
    public void Parse_PoolAndEnv_AreReadWithTheirUnits()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "pool": { "minWorkers": 2, "maxWorkers": 8, "queueTimeoutSeconds": 2.5, "memoryLimitBytes": 1073741824, "threads": 4, "growAfterSeconds": 0.25 },
            "env": { "DEBUG": false, "WORKERS": 3, "NAME": "shop" },
            """));

        Assert.Empty(errors);
        Assert.NotNull(app);
        Assert.Equal(2, app.Pool.MinWorkers);
        Assert.Equal(8, app.Pool.MaxWorkers);
        Assert.Equal(TimeSpan.FromSeconds(2.5), app.Pool.QueueTimeout);
        Assert.Equal(1L << 30, app.Pool.MemoryLimitBytes);
        Assert.Equal(4, app.Pool.Threads);
        Assert.Equal(TimeSpan.FromMilliseconds(250), app.Pool.GrowAfter);
        Assert.Equal("false", app.Environment["DEBUG"]);
        Assert.Equal("3", app.Environment["WORKERS"]);
        Assert.Equal("shop", app.Environment["NAME"]);
    }

    [Fact]
    public void Parse_Health_IsReadWithDefaults_AndBadValuesNamed()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "health": { "path": "/healthz?full=1", "intervalSeconds": 30 },
            """));
        Assert.Empty(errors);
        Assert.Equal("/healthz?full=1", app!.Health.Path);
        Assert.Equal(TimeSpan.FromSeconds(30), app.Health.Interval);
        Assert.Equal(TimeSpan.FromSeconds(5), app.Health.Timeout);

        (_, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "health": { "path": "healthz", "intervalSeconds": 0.5, "timeoutSeconds": "soon", "every": 3 },
            """));
        Assert.Contains("must be a path under the app's prefix starting with a single '/'", ErrorFor(errors, "health.path").Message, StringComparison.Ordinal);
        Assert.Contains("at least 1 second", ErrorFor(errors, "health.intervalSeconds").Message, StringComparison.Ordinal);
        Assert.Contains("number of seconds", ErrorFor(errors, "health.timeoutSeconds").Message, StringComparison.Ordinal);
        Assert.Contains("unknown key", ErrorFor(errors, "health.every").Message, StringComparison.Ordinal);

        // A scheme-relative path would send the probe, and its secret, to another host.
        (_, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "health": { "path": "//evil.example/x" },
            """));
        Assert.Contains("single '/'", ErrorFor(errors, "health.path").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Hosts_AreLowerCasedAndAPrefixOfSlashMeansTheWholeSite()
    {
        var json = $$"""
            {
              "runtime": "311",
              "root": "{{_siteDirectory}}",
              "wsgi": "app:application",
              "route": { "pathPrefix": "/", "hosts": ["Shop.Example.com", "*.example.org"] }
            }
            """;

        var (app, errors) = AppFileParser.Parse(AppFile(), json);

        Assert.Empty(errors);
        Assert.Equal("", app!.Route.PathPrefix);
        Assert.Equal(["shop.example.com", "*.example.org"], app.Route.Hosts);
    }

    [Fact]
    public void Parse_RelativeRoot_IsResolvedAgainstTheFilesFolder()
    {
        var json = """
            {
              "runtime": "311",
              "root": "../site",
              "wsgi": "app:application",
              "route": { "pathPrefix": "/" },
              "static": { "/assets": "static" }
            }
            """;

        var (app, errors) = AppFileParser.Parse(AppFile(), json);

        Assert.Empty(errors);
        Assert.Equal(_siteDirectory, app!.Root);
        Assert.Equal(Path.Combine(_siteDirectory, "static"), app.StaticDirectories["/assets"]);
    }

    [Fact]
    public void Parse_SameContent_GivesTheSameFingerprint_AndAChangeChangesIt()
    {
        var (first, _) = AppFileParser.Parse(AppFile(), ValidJson());
        var (again, _) = AppFileParser.Parse(AppFile(), ValidJson());
        var (changed, _) = AppFileParser.Parse(AppFile(), ValidJson("""
            "pool": { "maxWorkers": 5 },
            """));

        Assert.Equal(first!.Fingerprint, again!.Fingerprint);
        Assert.NotEqual(first.Fingerprint, changed!.Fingerprint);
    }

    [Fact]
    public void Parse_UnknownKey_NamesTheKeyAndSuggestsTheRightOne()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "pool": { "maxWorker": 3 },
            """));

        Assert.Null(app);
        var error = ErrorFor(errors, "pool.maxWorker");
        Assert.Contains("did you mean 'maxWorkers'", error.Message, StringComparison.Ordinal);
        Assert.Equal(AppFile(), error.Source);
    }

    [Fact]
    public void Parse_UnknownKeyWithNoCloseMatch_ListsTheAllowedKeys()
    {
        var (_, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "colour": "blue",
            """));

        var error = ErrorFor(errors, "colour");
        Assert.Contains("allowed: runtime, root, wsgi, route, env, static, pool", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WrongTypes_NameTheFileAndTheKey()
    {
        var json = $$"""
            {
              "runtime": "311",
              "root": "{{_siteDirectory}}",
              "wsgi": "app:application",
              "route": { "hosts": "a" },
              "pool": { "maxWorkers": "x" }
            }
            """;

        var (app, errors) = AppFileParser.Parse(AppFile(), json);

        Assert.Null(app);
        var maxWorkers = ErrorFor(errors, "pool.maxWorkers");
        Assert.Contains("whole number from 1 to 256", maxWorkers.Message, StringComparison.Ordinal);
        Assert.Contains("the string \"x\"", maxWorkers.Message, StringComparison.Ordinal);
        Assert.Contains(AppFile(), maxWorkers.ToString(), StringComparison.Ordinal);
        Assert.Contains("'pool.maxWorkers'", maxWorkers.ToString(), StringComparison.Ordinal);

        var hosts = ErrorFor(errors, "route.hosts");
        Assert.Contains("must be an array", hosts.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{AppFile()}: 'route.hosts': ", hosts.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingRequiredKeys_AreEachReported()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), """{ "route": { "pathPrefix": "/" } }""");

        Assert.Null(app);
        Assert.Contains("missing", ErrorFor(errors, "runtime").Message, StringComparison.Ordinal);
        Assert.Contains("missing", ErrorFor(errors, "wsgi").Message, StringComparison.Ordinal);
        Assert.Contains("missing", ErrorFor(errors, "root").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingRoute_IsReported()
    {
        var json = $$"""{ "runtime": "311", "root": "{{_siteDirectory}}", "wsgi": "app:application" }""";

        var (app, errors) = AppFileParser.Parse(AppFile(), json);

        Assert.Null(app);
        Assert.Contains("pathPrefix", ErrorFor(errors, "route").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RootFolderMissing_IsReported()
    {
        var json = """{ "runtime": "311", "root": "no-such-folder", "wsgi": "app:application", "route": { "pathPrefix": "/" } }""";

        var (app, errors) = AppFileParser.Parse(AppFile(), json);

        Assert.Null(app);
        Assert.Contains(Path.Combine(_appsDirectory, "no-such-folder"), ErrorFor(errors, "root").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MinWorkersAboveMaxWorkers_IsReported()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "pool": { "minWorkers": 5, "maxWorkers": 2 },
            """));

        Assert.Null(app);
        Assert.Contains("more than pool.maxWorkers (2)", ErrorFor(errors, "pool.minWorkers").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_GrowAfterNotBelowTheQueueTimeout_IsReported()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "pool": { "queueTimeoutSeconds": 2, "growAfterSeconds": 2 },
            """));

        Assert.Null(app);
        Assert.Contains("not less than pool.queueTimeoutSeconds (2 s)", ErrorFor(errors, "pool.growAfterSeconds").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidJson_ReportsTheLine()
    {
        var json = """
            {
              "runtime": "311",
              "root": "site"
              "wsgi": "app:application"
            }
            """;

        var (app, errors) = AppFileParser.Parse(AppFile(), json);

        Assert.Null(app);
        var error = Assert.Single(errors);
        Assert.Equal("", error.Key);
        Assert.Contains("not valid JSON (line 4,", error.Message, StringComparison.Ordinal);
        Assert.StartsWith(AppFile() + ": ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NotAnObject_IsReported()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), "[1, 2]");

        Assert.Null(app);
        Assert.Contains("one JSON object", Assert.Single(errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EnvWithPypePrefix_IsRejected()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "env": { "PYPE_SOCKET": "/tmp/evil.sock", "GOOD": "yes" },
            """));

        Assert.Null(app);
        Assert.Contains("PYPE_*", ErrorFor(errors, "env.PYPE_SOCKET").Message, StringComparison.Ordinal);
        Assert.DoesNotContain(errors, e => e.Key == "env.GOOD");
    }

    [Fact]
    public void Parse_StaticFolderMissing_IsReported()
    {
        var (app, errors) = AppFileParser.Parse(AppFile(), ValidJson("""
            "static": { "/assets": "no-such-folder" },
            """));

        Assert.Null(app);
        Assert.Contains(Path.Combine(_siteDirectory, "no-such-folder"), ErrorFor(errors, "static./assets").Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("app")]
    [InlineData("app:")]
    [InlineData("my-app:application")]
    [InlineData("app:application()")]
    public void Parse_BadWsgiSpec_IsReported(string wsgi)
    {
        var json = $$"""{ "runtime": "311", "root": "{{_siteDirectory}}", "wsgi": "{{wsgi}}", "route": { "pathPrefix": "/" } }""";

        var (app, errors) = AppFileParser.Parse(AppFile(), json);

        Assert.Null(app);
        Assert.Contains("package.module:callable", ErrorFor(errors, "wsgi").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidFileName_IsReported()
    {
        var (app, errors) = AppFileParser.Parse(AppFile("my shop"), ValidJson());

        Assert.Null(app);
        Assert.Contains("not a valid app name", Assert.Single(errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ManyProblems_AreAllReportedAtOnce()
    {
        var json = """
            {
              "root": "no-such-folder",
              "wsgi": "not a spec",
              "route": { "pathPrefix": "shop", "hosts": ["http://bad"] },
              "env": { "PYPE_SOCKET": "/x", "1BAD": "y" },
              "static": { "/": "static" },
              "pool": { "maxWorker": 2, "minWorkers": "one", "queueTimeoutSeconds": -1 },
              "colour": "blue"
            }
            """;

        var (app, errors) = AppFileParser.Parse(AppFile(), json);

        Assert.Null(app);
        string[] expected =
        [
            "runtime", "root", "wsgi", "route.pathPrefix", "route.hosts[0]", "env.PYPE_SOCKET", "env.1BAD", "static./",
            "pool.maxWorker", "pool.minWorkers", "pool.queueTimeoutSeconds", "colour",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), errors.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.All(errors, e => Assert.Equal(AppFile(), e.Source));
    }
}
