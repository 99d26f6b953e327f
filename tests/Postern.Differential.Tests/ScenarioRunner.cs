using System.Text;
using Postern.Testing;

namespace Postern.Differential.Tests;

/// <summary>One step as a client saw it on one server.</summary>
public sealed record StepOutcome(ScenarioStep ScenarioStep, Observation Observation, RawResponse Response);

/// <summary>Plays a scenario against both servers of a pair and judges the outcomes step by step.</summary>
public static class ScenarioRunner
{
    private const string ForwardedProto = "X-Forwarded-Proto";

    public static async Task RunAsync(Scenario scenario, ServerPair servers)
    {
        // The two clients are independent, so both servers are driven at once.
        var peerRun = PlayAsync(scenario, servers.PeerClient);
        var posternRun = PlayAsync(scenario, servers.PosternClient);
        var peer = await peerRun;
        var postern = await posternRun;

        TraceIfAsked(scenario, peer, postern);
        var report = new StringBuilder();
        for (var i = 0; i < scenario.Steps.Length; i++)
        {
            var step = scenario.Steps[i];
            var problems = step.Expect.Problems(peer[i].Observation, postern[i].Observation).ToList();
            if (step.DjangoStatus is { } expected && peer[i].Response.StatusCode != expected)
                problems.Insert(0, $"the scenario expects Django to answer {expected} here, it answered {peer[i].Response.StatusCode}"
                    + $": the scenario does not test what it says");
            if (problems.Count == 0)
                continue;
            report.AppendLine(
                $"step {i + 1}: {step}{(step.Expect.DeliberateDifference is { } why ? $"  [deliberate difference: {why}]" : "")}");
            foreach (var problem in problems)
                report.AppendLine("    " + problem);
            report.AppendLine("  django responded:").AppendLine(Indent(peer[i].Response));
            report.AppendLine("  postern responded:").AppendLine(Indent(postern[i].Response));
        }
        if (report.Length > 0)
            Assert.Fail($"Scenario \"{scenario.Name}\": Postern does not answer as Django does.\n{report}");
    }

    /// <summary>
    /// With POSTERN_DIFF_TRACE=&lt;file&gt;, every observation of both servers is appended to that file:
    /// passing steps are silent otherwise, and reading them is how one checks a scenario tests something.
    /// </summary>
    private static void TraceIfAsked(Scenario scenario, IReadOnlyList<StepOutcome> peer, IReadOnlyList<StepOutcome>? postern)
    {
        if (Environment.GetEnvironmentVariable("POSTERN_DIFF_TRACE") is not { Length: > 0 } file)
            return;
        var trace = new StringBuilder($"=== {scenario.Name}\n");
        for (var i = 0; i < scenario.Steps.Length; i++)
        {
            trace.Append($"--- step {i + 1}: {scenario.Steps[i]}\n[django]\n{peer[i].Observation}\n");
            if (postern is not null)
                trace.Append($"[postern]\n{postern[i].Observation}\n");
        }
        lock (TraceLock)
            File.AppendAllText(file, trace.ToString());
    }

    private static readonly Lock TraceLock = new();

    /// <summary>
    /// Plays the scenario against the Django peer alone and checks what each step says Django answers: for scenarios
    /// whose Postern side is not built yet, and to see that a scenario tests what it says. POSTERN_DIFF_TRACE applies.
    /// </summary>
    public static async Task RunOnPeerOnlyAsync(Scenario scenario, HttpClient peerClient)
    {
        var peer = await PlayAsync(scenario, peerClient);
        TraceIfAsked(scenario, peer, null);
        var report = new StringBuilder();
        for (var i = 0; i < scenario.Steps.Length; i++)
        {
            if (scenario.Steps[i].DjangoStatus is { } expected && peer[i].Response.StatusCode != expected)
            {
                report.AppendLine($"step {i + 1}: {scenario.Steps[i]}: Django answered {peer[i].Response.StatusCode}, "
                    + $"the scenario says {expected}").AppendLine(Indent(peer[i].Response));
            }
        }
        if (report.Length > 0)
            Assert.Fail($"Scenario \"{scenario.Name}\" does not test what it says:\n{report}");
    }

    private static async Task<IReadOnlyList<StepOutcome>> PlayAsync(Scenario scenario, HttpClient client)
    {
        var state = new ClientState(client.BaseAddress!, scenario.Transport);
        var outcomes = new List<StepOutcome>();
        foreach (var step in scenario.Steps)
        {
            step.Before?.Invoke(state);
            var headers = new List<(string, string)>();
            if (step.SendsCookies)
                headers.AddRange(state.Jar.Header());
            if (scenario.Transport == Transport.HttpsBehindProxy)
                headers.Add((ForwardedProto, "https"));
            headers.AddRange(step.Headers.Select(h => (h.Name, h.Value.Resolve(state))));

            var before = state.Jar.Snapshot();
            var response = await client.SendAsync(new HttpMethod(step.Method), step.Path, headers, step.Body?.Create(state));
            state.Jar.Absorb(response);
            step.After?.Invoke(state, response);
            outcomes.Add(new StepOutcome(step,
                Observation.Of(response, before, state.Jar.Snapshot(), client.BaseAddress!.Authority), response));
        }
        return outcomes;
    }

    private static string Indent(RawResponse response)
    {
        var text = new StringBuilder();
        text.Append($"    HTTP {response.StatusCode}");
        foreach (var header in response.Headers.Concat(response.ContentHeaders))
        {
            foreach (var value in header.Value)
                text.Append($"\n    {header.Key}: {value}");
        }
        var body = response.Body.Length > 300 ? response.Body[..300] + "…" : response.Body;
        if (body.Length > 0)
            text.Append("\n    ").Append(body.ReplaceLineEndings(" "));
        return text.ToString();
    }
}
