using System.Text.Json.Nodes;

namespace Postern.Cli.Tests;

/// <summary>
/// Reads and edits a session file as the library writes it (<c>{"baseAddress", "cookies": [{"name", "value",
/// ...}]}</c>).
/// </summary>
public static class SavedSessionFile
{
    public static string? Cookie(string file, string name) =>
        Cookies(JsonNode.Parse(File.ReadAllText(file))!).FirstOrDefault(c => (string?)c["name"] == name)?["value"]?.GetValue<string>();

    public static void SetCookie(string file, string name, string value)
    {
        var root = JsonNode.Parse(File.ReadAllText(file))!;
        Cookies(root).First(c => (string?)c["name"] == name)["value"] = value;
        File.WriteAllText(file, root.ToJsonString());
    }

    private static IEnumerable<JsonNode> Cookies(JsonNode root) => root["cookies"]!.AsArray().Select(c => c!);
}
