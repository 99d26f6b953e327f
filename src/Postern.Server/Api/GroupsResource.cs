using System.Globalization;
using System.Text.Json.Nodes;
using Postern.Server.Storage;

namespace Postern.Server.Api;

/// <summary><c>/api/groups/</c> and <c>/api/groups/{id}/</c>: the peer's HyperlinkedModelSerializer(url, name).</summary>
public static class GroupsResource
{
    private const int MaxNameLength = 150;

    public static readonly ApiResource List = new()
    {
        Name = "Group List",
        Permission = AccessRule.ReadOrStaffWrite,
        Handlers = new Dictionary<string, Func<ApiCall, Task<ApiResponse>>> { ["GET"] = ListAsync, ["POST"] = CreateAsync },
        WriteActions = new JsonObject { ["POST"] = FieldMetadata() },
    };

    public static readonly ApiResource Detail = new()
    {
        Name = "Group Instance",
        Permission = AccessRule.ReadOrStaffWrite,
        Handlers = new Dictionary<string, Func<ApiCall, Task<ApiResponse>>>
        {
            ["GET"] = GetAsync,
            ["PUT"] = call => UpdateAsync(call, partial: false),
            ["PATCH"] = call => UpdateAsync(call, partial: true),
            ["DELETE"] = DeleteAsync,
        },
        WriteActions = new JsonObject { ["PUT"] = FieldMetadata() },
    };

    public static JsonObject Represent(Group group, ApiLinks links) => new()
    {
        ["url"] = links.Group(group.Id),
        ["name"] = group.Name,
    };

    private static Task<ApiResponse> ListAsync(ApiCall call)
    {
        var groups = call.Service<IGroupStore>();
        return PageBody.RespondAsync(call, groups.CountGroupsAsync, groups.ListGroupsAsync, g => Represent(g, call.Links));
    }

    private static async Task<ApiResponse> GetAsync(ApiCall call)
    {
        var found = await FindAsync(call);
        return found.Response ?? ApiResponse.Ok(Represent(found.Group!, call.Links));
    }

    private static async Task<ApiResponse> CreateAsync(ApiCall call)
    {
        var (name, errors) = await ValidateAsync(call, partial: false, currentId: null);
        if (errors is not null)
            return ApiResponse.Invalid(errors);
        try
        {
            var created = await call.Service<IGroupStore>().CreateGroupAsync(name!, call.Aborted);
            return new ApiResponse(StatusCodes.Status201Created, Represent(created, call.Links), call.Links.Group(created.Id));
        }
        catch (DuplicateGroupNameException)
        {
            return NameTaken();
        }
    }

    private static async Task<ApiResponse> UpdateAsync(ApiCall call, bool partial)
    {
        var found = await FindAsync(call);
        if (found.Response is not null)
            return found.Response;
        var (name, errors) = await ValidateAsync(call, partial, found.Group!.Id);
        if (errors is not null)
            return ApiResponse.Invalid(errors);
        if (name is null)
            return ApiResponse.Ok(Represent(found.Group, call.Links));
        try
        {
            var renamed = await call.Service<IGroupStore>().RenameGroupAsync(found.Group.Id, name, call.Aborted);
            return renamed is null ? NoSuchGroup() : ApiResponse.Ok(Represent(renamed, call.Links));
        }
        catch (DuplicateGroupNameException)
        {
            return NameTaken();
        }
    }

    private static async Task<ApiResponse> DeleteAsync(ApiCall call)
    {
        var found = await FindAsync(call);
        if (found.Response is not null)
            return found.Response;
        await call.Service<IGroupStore>().DeleteGroupAsync(found.Group!.Id, call.Aborted);
        return ApiResponse.NoContent();
    }

    private static async Task<(Group? Group, ApiResponse? Response)> FindAsync(ApiCall call)
    {
        if (!call.TryGetNumericId(out var id))
            return (null, ApiResponse.NotFound());
        var group = await call.Service<IGroupStore>().FindGroupByIdAsync(id, call.Aborted);
        return group is null ? (null, NoSuchGroup()) : (group, null);
    }

    private static ApiResponse NoSuchGroup() => ApiResponse.NotFound("No Group matches the given query.");

    private static ApiResponse NameTaken()
    {
        var errors = new FieldErrors();
        errors.Add("name", "group with this name already exists.");
        return ApiResponse.Invalid(errors);
    }

    private static async Task<(string? Name, FieldErrors? Errors)> ValidateAsync(ApiCall call, bool partial, long? currentId)
    {
        var input = await call.ReadInputAsync();
        var errors = new FieldErrors();
        if (input.NotAnObjectTypeName is { } type)
        {
            errors.Add("non_field_errors", type == "NoneType" ? "No data provided" : $"Invalid data. Expected a dictionary, but got {type}.");
            return (null, errors);
        }
        var name = Fields.ReadString(input, "name", errors, required: !partial, allowBlank: false, MaxNameLength, out _);
        if (name is not null && await call.Service<IGroupStore>().FindGroupByNameAsync(name, call.Aborted) is { } other && other.Id != currentId)
            errors.Add("name", "group with this name already exists.");
        return errors.Any ? (null, errors) : (name, null);
    }

    private static JsonObject FieldMetadata() => new()
    {
        ["url"] = new JsonObject { ["type"] = "field", ["required"] = false, ["read_only"] = true, ["label"] = "Url" },
        ["name"] = new JsonObject { ["type"] = "string", ["required"] = true, ["read_only"] = false, ["label"] = "Name", ["max_length"] = 150 },
    };
}
