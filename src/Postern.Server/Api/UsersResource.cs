using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Postern.Protocol;
using Postern.Server.Accounts;
using Postern.Server.Storage;

namespace Postern.Server.Api;

/// <summary><c>/api/users/</c> and <c>/api/users/{id}/</c>: the peer's HyperlinkedModelSerializer(url, username, email, groups).</summary>
public static partial class UsersResource
{
    private const int MaxEmailLength = 254;

    public static readonly ApiResource List = new()
    {
        Name = "User List",
        Permission = AccessRule.ReadOrStaffWrite,
        Handlers = new Dictionary<string, Func<ApiCall, Task<ApiResponse>>> { ["GET"] = ListAsync, ["POST"] = CreateAsync },
        WriteActions = new JsonObject { ["POST"] = FieldMetadata() },
    };

    public static readonly ApiResource Detail = new()
    {
        Name = "User Instance",
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

    public static JsonObject Represent(UserWithGroups user, ApiLinks links) => new()
    {
        ["url"] = links.User(user.User.Id),
        ["username"] = user.User.Username,
        ["email"] = user.User.Email,
        ["groups"] = new JsonArray(user.GroupIds.Select(id => (JsonNode?)links.Group(id)).ToArray()),
    };

    private static Task<ApiResponse> ListAsync(ApiCall call)
    {
        var users = call.Service<IUserStore>();
        return PageBody.RespondAsync(call, users.CountUsersAsync, users.ListUsersAsync, u => Represent(u, call.Links));
    }

    private static async Task<ApiResponse> GetAsync(ApiCall call)
    {
        var found = await FindAsync(call);
        return found.Response ?? ApiResponse.Ok(Represent(found.User!, call.Links));
    }

    private static async Task<ApiResponse> CreateAsync(ApiCall call)
    {
        var input = await call.ReadInputAsync();
        var (changes, errors) = await ValidateAsync(call, input, partial: false, currentId: null);
        if (errors is not null)
            return ApiResponse.Invalid(errors);
        try
        {
            var created = await call.Service<IUserStore>().CreateUserAsync(
                new NewUser(changes.Username!, changes.Email ?? "", DjangoPasswordHash.NewUnusable()) { GroupIds = changes.GroupIds ?? [] }, call.Aborted);
            var body = Represent(new UserWithGroups(created, (changes.GroupIds ?? []).Distinct().Order().ToList()), call.Links);
            return new ApiResponse(StatusCodes.Status201Created, body, call.Links.User(created.Id));
        }
        catch (DuplicateUsernameException)
        {
            return UsernameTaken();
        }
        catch (MissingReferenceException)
        {
            return GroupGone();
        }
    }

    private static async Task<ApiResponse> UpdateAsync(ApiCall call, bool partial)
    {
        var found = await FindAsync(call);
        if (found.Response is not null)
            return found.Response;
        var input = await call.ReadInputAsync();
        var (changes, errors) = await ValidateAsync(call, input, partial, found.User!.User.Id);
        if (errors is not null)
            return ApiResponse.Invalid(errors);
        try
        {
            var updated = await call.Service<IUserStore>().UpdateUserAsync(found.User.User.Id, changes, call.Aborted);
            return updated is null ? NoSuchUser() : ApiResponse.Ok(Represent(updated, call.Links));
        }
        catch (DuplicateUsernameException)
        {
            return UsernameTaken();
        }
        catch (MissingReferenceException)
        {
            return GroupGone();
        }
    }

    private static async Task<ApiResponse> DeleteAsync(ApiCall call)
    {
        var found = await FindAsync(call);
        if (found.Response is not null)
            return found.Response;
        // Deleting a user ends their sessions with them (the store cascades).
        await call.Service<IUserStore>().DeleteUserAsync(found.User!.User.Id, call.Aborted);
        return ApiResponse.NoContent();
    }

    private static async Task<(UserWithGroups? User, ApiResponse? Response)> FindAsync(ApiCall call)
    {
        if (!call.TryGetNumericId(out var id))
            return (null, ApiResponse.NotFound());
        var user = await call.Service<IUserStore>().FindUserWithGroupsAsync(id, call.Aborted);
        return user is null ? (null, NoSuchUser()) : (user, null);
    }

    private static ApiResponse NoSuchUser() => ApiResponse.NotFound("No User matches the given query.");

    /// <summary>A group that passed validation was deleted before the write: what validation would have said a moment later.</summary>
    private static ApiResponse GroupGone()
    {
        var errors = new FieldErrors();
        errors.Add("groups", GroupDoesNotExist);
        return ApiResponse.Invalid(errors);
    }

    private const string GroupDoesNotExist = "Invalid hyperlink - Object does not exist.";

    private static ApiResponse UsernameTaken()
    {
        var errors = new FieldErrors();
        errors.Add("username", "A user with that username already exists.");
        return ApiResponse.Invalid(errors);
    }

    private static async Task<(UserChanges Changes, FieldErrors? Errors)> ValidateAsync(ApiCall call, ApiInput input, bool partial, long? currentId)
    {
        var errors = new FieldErrors();
        if (input.NotAnObjectTypeName is { } type)
        {
            errors.Add("non_field_errors", type == "NoneType" ? "No data provided" : $"Invalid data. Expected a dictionary, but got {type}.");
            return (new UserChanges(), errors);
        }
        var username = Fields.ReadString(input, "username", errors, required: !partial, allowBlank: false, AccountService.MaxUsernameLength, out _,
            validate: name => AccountService.IsUsernamePattern(name) ? null : "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.");
        if (username is not null && await call.Service<IUserStore>().FindUserByUsernameAsync(username, call.Aborted) is { } other && other.Id != currentId)
            errors.Add("username", "A user with that username already exists.");
        var email = Fields.ReadString(input, "email", errors, required: false, allowBlank: true, MaxEmailLength, out _);
        if (email is { Length: > 0 } && !IsEmail(email))
            errors.Add("email", "Enter a valid email address.");
        var groups = Fields.ReadHyperlinks(input, "groups", "groups", errors, partial, out _);
        if (groups is { Count: > 0 })
        {
            var existing = await call.Service<IGroupStore>().FindExistingGroupIdsAsync(groups, call.Aborted);
            if (groups.Any(id => !existing.Contains(id)))
                errors.Add("groups", GroupDoesNotExist);
        }
        return errors.Any ? (new UserChanges(), errors) : (new UserChanges(username, email, groups), null);
    }

    /// <summary>Django's EmailValidator, in its common form: a dot-atom local part, a domain with a TLD, or localhost.</summary>
    private static bool IsEmail(string value)
    {
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1)
            return false;
        var (user, domain) = (value[..at], value[(at + 1)..]);
        return EmailUser().IsMatch(user) && (domain == "localhost" || EmailDomain().IsMatch(domain) || EmailLiteral().IsMatch(domain));
    }

    [GeneratedRegex(@"^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\z", RegexOptions.IgnoreCase)]
    private static partial Regex EmailUser();

    [GeneratedRegex(@"^((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))\z", RegexOptions.IgnoreCase)]
    private static partial Regex EmailDomain();

    [GeneratedRegex(@"^\[[0-9a-f:.]+\]\z", RegexOptions.IgnoreCase)]
    private static partial Regex EmailLiteral();

    private static JsonObject FieldMetadata() => new()
    {
        ["url"] = new JsonObject { ["type"] = "field", ["required"] = false, ["read_only"] = true, ["label"] = "Url" },
        ["username"] = new JsonObject
        {
            ["type"] = "string",
            ["required"] = true,
            ["read_only"] = false,
            ["label"] = "Username",
            ["help_text"] = "Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.",
            ["max_length"] = 150,
        },
        ["email"] = new JsonObject { ["type"] = "email", ["required"] = false, ["read_only"] = false, ["label"] = "Email address", ["max_length"] = 254 },
        ["groups"] = new JsonObject
        {
            ["type"] = "field",
            ["required"] = false,
            ["read_only"] = false,
            ["label"] = "Groups",
            ["help_text"] = "The groups this user belongs to. A user will get all permissions granted to each of their groups.",
        },
    };
}

/// <summary>DRF's paginated list body: count, next, previous, results, in that order.</summary>
public static class PageBody
{
    public static JsonObject Of(Page page, IEnumerable<JsonNode> results) => new()
    {
        ["count"] = page.Count,
        ["next"] = page.Next,
        ["previous"] = page.Previous,
        ["results"] = new JsonArray(results.ToArray()),
    };

    /// <summary>A list answer: count the rows, pick the page the query asks for (404 if there is none), fetch and represent it.</summary>
    public static async Task<ApiResponse> RespondAsync<T>(ApiCall call, Func<CancellationToken, Task<long>> count,
        Func<int, int, CancellationToken, Task<IReadOnlyList<T>>> fetch, Func<T, JsonNode> represent)
    {
        if (!Pagination.TryPaginate(call.Request, await count(call.Aborted), call.Options, out var page))
            return ApiResponse.NotFound(Pagination.InvalidPage);
        var rows = await fetch(page.Offset, page.Size, call.Aborted);
        return ApiResponse.Ok(Of(page, rows.Select(represent)));
    }
}
