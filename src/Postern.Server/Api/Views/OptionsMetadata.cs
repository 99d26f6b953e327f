using System.Text.Json.Nodes;

namespace Postern.Server.Api;

/// <summary>
/// DRF's SimpleMetadata, the answer to OPTIONS: the view's name and description, what it renders and parses, and for
/// each of POST and PUT that the user may send (permissions asked as for that method; PUT also needs the object), the
/// fields to send with their type, constraints and help.
/// </summary>
public static class OptionsMetadata
{
    public static async Task<JsonObject> DescribeAsync(ApiRequest request, ApiRoute route)
    {
        var metadata = new JsonObject
        {
            ["name"] = route.Name,
            ["description"] = route.Description,
            ["renders"] = ApiPipeline.Renders.DeepClone(),
            ["parses"] = ApiPipeline.Parses.DeepClone(),
        };
        var actions = new JsonObject();
        foreach (var method in (string[])["POST", "PUT"])
        {
            if (await MayWriteAsync(request, route, method) && route.InputFields.Count > 0)
                actions[method] = Describe(route.InputFields.Where(f => f.IsShownTo(request)), request);
        }
        if (actions.Count > 0)
            metadata["actions"] = actions;
        return metadata;
    }

    /// <summary>
    /// Whether <paramref name="request"/>'s user may send <paramref name="method"/> to the route (and, on one object,
    /// may act on it).
    /// </summary>
    public static async Task<bool> MayWriteAsync(ApiRequest request, ApiRoute route, string method)
    {
        if (!route.Methods.Contains(method))
            return false;
        var asked = request.WithMethod(method);
        foreach (var permission in route.Permissions)
        {
            if (!permission.HasPermission(asked))
                return false;
        }
        if (!route.OnInstance || route.Resource is null)
            return true;
        var id = request.Context.GetRouteValue("id")?.ToString();
        return id is not null && await route.Resource.MayActOnAsync(asked, id, route.Permissions);
    }

    public static JsonObject Describe(IEnumerable<Field> fields, ApiRequest? request = null)
    {
        var described = new JsonObject();
        foreach (var field in fields)
            described[field.Name] = Describe(field, request);
        return described;
    }

    /// <summary>DRF's get_field_info: type, required, read_only, label, help_text, then the constraints, then choices.</summary>
    public static JsonObject Describe(Field field, ApiRequest? request = null)
    {
        var readOnly = request is null ? field.ReadOnly : field.IsReadOnlyFor(request);
        var info = new JsonObject
        {
            ["type"] = field.MetadataType,
            ["required"] = field.Required && !readOnly,
            ["read_only"] = readOnly,
            ["label"] = field.Label,
        };
        if (!string.IsNullOrEmpty(field.HelpText))
            info["help_text"] = field.HelpText;
        field.DescribeConstraints(info);
        if (readOnly)
            info.Remove("choices");
        return info;
    }
}
