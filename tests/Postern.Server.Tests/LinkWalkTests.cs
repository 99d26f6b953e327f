using System.Net;
using System.Text.Json;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// A property of the whole API: starting at <c>/api/</c>, every link found in any JSON answer leads
/// somewhere (no 404, no 5xx), in JSON and in the browsable HTML alike.
/// </summary>
public sealed class LinkWalkTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("alice", "alice-password")]
    [InlineData("bob", "bob-password")]
    public async Task EveryLinkReachableFromTheRootIsAlive(string username, string password)
    {
        var visitor = new Visitor(fixture.Server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync(username, password)).Status);
        var origin = fixture.Server.BaseAddress.GetLeftPart(UriPartial.Authority);
        var queue = new Queue<string>([origin + "/api/"]);
        var visited = new HashSet<string>();
        while (queue.Count > 0 && visited.Count < 500)
        {
            var url = queue.Dequeue();
            if (!visited.Add(url))
                continue;
            var response = await visitor.GetAsync(url);
            Assert.True(response.StatusCode == 200, $"{url} answered {response.StatusCode}: {response.Body}");
            var html = await visitor.GetAsync(url, ("Accept", "text/html"));
            Assert.True(html.StatusCode == 200, $"{url} as HTML answered {html.StatusCode}");
            foreach (var link in Links(response.Json()))
            {
                Assert.StartsWith(origin + "/", link, StringComparison.Ordinal);
                queue.Enqueue(link);
            }
        }
        Assert.Contains(origin + "/api/users/", visited);
        Assert.Contains(origin + "/api/groups/1/", visited);
        Assert.Contains(visited,
            u => u.StartsWith(origin + "/api/sessions/", StringComparison.Ordinal) && u.Length > (origin + "/api/sessions/").Length);
    }

    private static IEnumerable<string> Links(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => Links(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Links),
        JsonValueKind.String when element.GetString() is { } s && s.StartsWith("http", StringComparison.Ordinal) => [s],
        _ => [],
    };
}
