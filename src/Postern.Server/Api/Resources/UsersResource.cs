using Postern.Protocol;
using Postern.Server.Accounts;
using Postern.Server.Storage;

namespace Postern.Server.Api.Resources;

/// <summary>
/// <c>/api/users/</c>: Django's auth.User as the reference backend's HyperlinkedModelSerializer shows it
/// (<c>url</c>, <c>username</c>, <c>email</c>, <c>groups</c>). Anyone signed in reads; staff write. A user created here has
/// no usable password until one is set.
/// </summary>
public static class UsersResource
{
    public const string UsernameTaken = "A user with that username already exists.";

    public static readonly UrlField<UserWithGroups> Url = new();

    public static readonly StringField<UserWithGroups> Username = new("username", u => u.User.Username)
    {
        MaxLength = AccountService.MaxUsernameLength,
        HelpText = "Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.",
        Validators =
        [
            new CheckValidator<string?>(name => AccountService.IsUsernamePattern(name!) ? null : AccountService.InvalidUsername),
            new UniqueValidator<string?>(UsernameTaken,
                async (name, context) =>
                    (await context.Call.Service<IUserStore>().FindUserByUsernameAsync(name!, context.Call.Aborted))?.Id,
                user => ((UserWithGroups)user).User.Id),
        ],
    };

    public static readonly EmailField<UserWithGroups> Email = new("email", u => u.User.Email)
    {
        Label = "Email address",
        MaxLength = 254,
        AllowBlank = true,
        Required = false,
    };

    public static readonly HyperlinkListField<UserWithGroups> Groups = new("groups", u => u.GroupIds, () => GroupsResource.Declaration)
    {
        Required = false,
        HelpText = "The groups this user belongs to. A user will get all permissions granted to each of their groups.",
    };

    public static readonly Resource<UserWithGroups> Declaration = new()
    {
        Name = "User",
        Path = "users",
        Fields = [Url, Username, Email, Groups],
        Permissions = [ApiPermissions.IsAuthenticated, ApiPermissions.IsStaffOrReadOnly],
        Operations = Operations.All,
        Store = new UserRecords(),
        IdOf = u => u.User.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        DisplayOf = u => u.User.Username,
    };

    private sealed class UserRecords : ResourceStore<UserWithGroups>
    {
        private static IUserStore Users(ApiRequest request) => request.Service<IUserStore>();

        public override Task<long> CountAsync(ApiRequest request) => Users(request).CountUsersAsync(request.Aborted);

        public override Task<IReadOnlyList<UserWithGroups>> ListAsync(ApiRequest request, int offset, int limit) =>
            Users(request).ListUsersAsync(offset, limit, request.Aborted);

        public override Task<UserWithGroups?> FindAsync(ApiRequest request, string id) =>
            Users(request).FindUserWithGroupsAsync(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture), request.Aborted);

        public override async Task<UserWithGroups> CreateAsync(ApiRequest request, ValidatedData data)
        {
            var groups = data.Get(Groups, []) ?? [];
            var user = new NewUser(data.Get(Username)!, data.Get(Email, "") ?? "", DjangoPasswordHash.NewUnusable()) { GroupIds = groups };
            var created = await WriteAsync(() => Users(request).CreateUserAsync(user, request.Aborted));
            return new UserWithGroups(created, [.. groups.Distinct().Order()]);
        }

        public override Task<UserWithGroups?> UpdateAsync(ApiRequest request, UserWithGroups current, ValidatedData data) =>
            WriteAsync(() => Users(request).UpdateUserAsync(current.User.Id,
                new UserChanges(data.Get(Username), data.Get(Email), data.Has(Groups) ? data.Get(Groups) : null), request.Aborted));

        /// <summary>Deleting a user ends their sessions with them (the store cascades).</summary>
        public override Task DeleteAsync(ApiRequest request, UserWithGroups current) =>
            Users(request).DeleteUserAsync(current.User.Id, request.Aborted);

        /// <summary>What validation said a moment before, if another request took the name or deleted a group in between.</summary>
        private static async Task<T> WriteAsync<T>(Func<Task<T>> write)
        {
            try
            {
                return await write();
            }
            catch (DuplicateUsernameException)
            {
                throw ApiValidationException.Of(Username, UsernameTaken);
            }
            catch (MissingReferenceException)
            {
                throw ApiValidationException.Of(Groups, FieldMessages.ObjectDoesNotExist);
            }
        }
    }
}
