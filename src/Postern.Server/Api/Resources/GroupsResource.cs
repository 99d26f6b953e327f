using Postern.Server.Storage;

namespace Postern.Server.Api.Resources;

/// <summary>
/// <c>/api/groups/</c>: Django's auth.Group as the reference backend's HyperlinkedModelSerializer shows it (<c>url</c>,
/// <c>name</c>).
/// </summary>
public static class GroupsResource
{
    /// <summary>Django's default unique message: "%(model_name)s with this %(field_label)s already exists."</summary>
    public const string NameTaken = "group with this name already exists.";

    public static readonly UrlField<Group> Url = new();

    public static readonly StringField<Group> Name = new("name", g => g.Name)
    {
        MaxLength = 150,
        Validators =
        [
            new UniqueValidator<string?>(NameTaken,
                async (name, context) => (await context.Call.Service<IGroupStore>().FindGroupByNameAsync(name!, context.Call.Aborted))?.Id,
                group => ((Group)group).Id),
        ],
    };

    public static readonly Resource<Group> Declaration = new()
    {
        Name = "Group",
        Path = "groups",
        Fields = [Url, Name],
        Permissions = [ApiPermissions.IsAuthenticated, ApiPermissions.IsStaffOrReadOnly],
        Operations = Operations.All,
        Store = new GroupRecords(),
        IdOf = g => g.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        DisplayOf = g => g.Name,
    };

    private sealed class GroupRecords : ResourceStore<Group>
    {
        private static IGroupStore Groups(ApiRequest request) => request.Service<IGroupStore>();

        public override Task<long> CountAsync(ApiRequest request) => Groups(request).CountGroupsAsync(request.Aborted);

        public override Task<IReadOnlyList<Group>> ListAsync(ApiRequest request, int offset, int limit) =>
            Groups(request).ListGroupsAsync(offset, limit, request.Aborted);

        public override Task<Group?> FindAsync(ApiRequest request, string id) =>
            Groups(request).FindGroupByIdAsync(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture), request.Aborted);

        public override Task<IReadOnlySet<long>> ExistingIdsAsync(ApiRequest request, IReadOnlyCollection<long> ids) =>
            Groups(request).FindExistingGroupIdsAsync(ids, request.Aborted);

        public override Task<Group> CreateAsync(ApiRequest request, ValidatedData data) =>
            NameFreeAsync(() => Groups(request).CreateGroupAsync(data.Get(Name)!, request.Aborted));

        /// <summary>A PATCH without a name changes nothing.</summary>
        public override async Task<Group?> UpdateAsync(ApiRequest request, Group current, ValidatedData data) =>
            data.Get(Name) is { } name
                ? await NameFreeAsync(() => Groups(request).RenameGroupAsync(current.Id, name, request.Aborted))
                : current;

        public override Task DeleteAsync(ApiRequest request, Group current) =>
            Groups(request).DeleteGroupAsync(current.Id, request.Aborted);

        /// <summary>What validation said a moment before, if another request took the name in between.</summary>
        private static async Task<T> NameFreeAsync<T>(Func<Task<T>> write)
        {
            try
            {
                return await write();
            }
            catch (DuplicateGroupNameException)
            {
                throw ApiValidationException.Of(Name, NameTaken);
            }
        }
    }
}
