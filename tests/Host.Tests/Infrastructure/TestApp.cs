using System.Text.Json.Nodes;

namespace PyPE.Host.Tests.Infrastructure;

/// <summary>An app file for the test app (tests/TestApps/testapp), with the pool settings a test needs.</summary>
internal sealed record TestApp(string Name)
{
    public string Runtime { get; init; } = "system";

    /// <summary>Route prefix; <c>/apps/&lt;name&gt;</c> when not set.</summary>
    public string? PathPrefix { get; init; }

    public string[] Hosts { get; init; } = [];

    public Dictionary<string, string> Env { get; init; } = [];

    public Dictionary<string, object> Pool { get; init; } = new() { ["minWorkers"] = 1, ["maxWorkers"] = 2 };

    public Dictionary<string, string> Static { get; init; } = [];

    /// <summary>The synthetic probe; off unless a test turns it on, so probes never take a worker a test counts on.</summary>
    public Dictionary<string, object> Health { get; init; } = new() { ["intervalSeconds"] = 0 };

    public string Wsgi { get; init; } = "testapp.app:application";

    /// <summary>The app's root; the test app folder shipped beside the tests by default.</summary>
    public string Root { get; init; } = Path.Combine(AppContext.BaseDirectory, "TestApps");

    public string Prefix => PathPrefix ?? "/apps/" + Name;

    public string ToJson()
    {

        var json = new JsonObject
        {
            ["runtime"] = Runtime,
            ["root"] = Root,
            ["wsgi"] = Wsgi,
            ["route"] = new JsonObject { ["pathPrefix"] = Prefix, ["hosts"] = new JsonArray([.. Hosts.Select(h => (JsonNode)h!)]) },
            ["env"] = new JsonObject([.. Env.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value))]),
            ["static"] = new JsonObject([.. Static.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value))]),
            ["pool"] = ToObject(Pool),
            ["health"] = ToObject(Health),
        };
        return json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject ToObject(Dictionary<string, object> values)
    {
        var json = new JsonObject();
        foreach (var (key, value) in values)
        {
            json[key] = value switch
            {
                int i => JsonValue.Create(i),
                long l => JsonValue.Create(l),
                double d => JsonValue.Create(d),
                bool b => JsonValue.Create(b),
                string text => JsonValue.Create(text),
                _ => throw new ArgumentException($"unsupported value {value} for {key}"),
            };
        }

        return json;
    }
}
