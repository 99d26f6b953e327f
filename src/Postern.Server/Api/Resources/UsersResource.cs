using System.Text.Json.Nodes;
using Postern.Protocol;
using Postern.Server.Accounts;
using Postern.Server.Audit;
using Postern.Server.Sessions;
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

    /// <summary>
    /// Only a superuser may change, delete or set the password of a superuser: otherwise any staff member could take
    /// over the one account above them (docs/differences-from-django.md). Reads are untouched.
    /// </summary>
    public static readonly PermissionRule SuperusersChangedBySuperusersOnly = new SuperuserGuard();

    private sealed class SuperuserGuard : PermissionRule
    {
        public override string Who => "superusers";

        public override bool HasObjectPermission(ApiRequest request, object instance) =>
            SafeMethods.Contains(request.Method) || instance is not UserWithGroups { User.IsSuperuser: true } || request.User.IsSuperuser;
    }

    /// <summary>An API token never sets its own user's password, as at /auth/password/change (it would also end itself).</summary>
    public static readonly PermissionRule OwnPasswordNotByToken = new OwnPasswordGuard();

    private sealed class OwnPasswordGuard : PermissionRule
    {
        public override string Message => Accounts.AccountEndpoints.TokenCannotChangePassword;

        public override bool HasObjectPermission(ApiRequest request, object instance) =>
            !(request.ByToken && instance is UserWithGroups { User.Id: var id } && id == request.User.Id);
    }

    private static readonly PasswordField<JsonObject> NewPassword = new("password") { MaxLength = DjangoPasswordHash.MaxPasswordLength };

    /// <summary>
    /// Staff give a user a password (a user created here has none): the validators judge it against that user, and every
    /// session of the user ends; staff setting their own stay signed in, under a new key.
    /// </summary>
    public static readonly ApiAction SetPassword = new()
    {
        Name = "Set Password",
        Path = "set_password",
        OnInstance = true,
        Description = "Staff only: sets the user's password (the password validators apply) and ends every session of the user.",
        Fields = [NewPassword],
        Permissions = [ApiPermissions.IsAuthenticated, ApiPermissions.IsStaff, SuperusersChangedBySuperusersOnly, OwnPasswordNotByToken],
        ResultFields = [new StringField<JsonObject>("status") { ReadOnly = true, HelpText = "\"password set\"" }],
        Handler = async action =>
        {
            var request = action.Request;
            var target = ((UserWithGroups)action.Instance!).User;
            var password = action.Input.Get(NewPassword)!;
            var problems = request.Service<PasswordValidation>()
                .Validate(password, new PasswordUserAttributes(target.Username, target.Email, target.FirstName, target.LastName));
            if (problems.Count > 0)
            {
                var errors = new FieldErrors();
                errors.AddRange("password", problems);
                throw new ApiValidationException(errors);
            }
            // Staff who set their own stay signed in, under a new session key (Django's update_session_auth_hash cycles it).
            var changed = await request.Service<AccountService>().ReplacePasswordAsync(target, password, request.Aborted);
            if (target.Id == request.User.Id)
                await request.Context.GetRequestSession().LoginAsync(changed);
            await request.Service<AuditTrail>().RecordAsync(request.Context, AuditEventKinds.PasswordChanged, changed, request.User, "Set by staff.");
            return ApiResponse.Ok(new JsonObject { ["status"] = "password set" });
        },
    };

    // Django's account flags: a documented superset of the reference serializer, shown to staff only, set by superusers only.
    public static readonly BooleanField<UserWithGroups> IsActive = new("is_active", u => u.User.IsActive)
    {
        Label = "Active",
        Required = false,
        ShownTo = ApiPermissions.IsStaff,
        WritableBy = ApiPermissions.IsSuperuser,
        HelpText = "Designates whether this user should be treated as active. Unselect this instead of deleting accounts.",
    };

    public static readonly BooleanField<UserWithGroups> IsStaffFlag = new("is_staff", u => u.User.IsStaff)
    {
        Label = "Staff status",
        Required = false,
        ShownTo = ApiPermissions.IsStaff,
        WritableBy = ApiPermissions.IsSuperuser,
        HelpText = "Designates whether the user can log into this admin site.",
    };

    public static readonly BooleanField<UserWithGroups> IsSuperuserFlag = new("is_superuser", u => u.User.IsSuperuser)
    {
        Label = "Superuser status",
        Required = false,
        ShownTo = ApiPermissions.IsStaff,
        WritableBy = ApiPermissions.IsSuperuser,
        HelpText = "Designates that this user has all permissions without explicitly assigning them.",
    };

    public static readonly Resource<UserWithGroups> Declaration = new()
    {
        Name = "User",
        Path = "users",
        Fields = [Url, Username, Email, Groups, IsActive, IsStaffFlag, IsSuperuserFlag],
        Permissions = [ApiPermissions.IsAuthenticated, ApiPermissions.IsStaffOrReadOnly, SuperusersChangedBySuperusersOnly],
        Operations = Operations.All,
        Actions = [SetPassword],
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
            // Staff vouch for the addresses they set: verified from the start.
            var user = new NewUser(data.Get(Username)!, data.Get(Email, "") ?? "", DjangoPasswordHash.NewUnusable(),
                IsStaff: data.Get(IsStaffFlag, false), IsSuperuser: data.Get(IsSuperuserFlag, false), IsActive: data.Get(IsActive, true))
            {
                GroupIds = groups,
                EmailVerified = true,
            };
            var created = await WriteAsync(() => Users(request).CreateUserAsync(user, request.Aborted));
            var audit = request.Service<AuditTrail>();
            await audit.RecordAsync(request.Context, AuditEventKinds.UserCreated, created, request.User, "Created by staff.");
            if (created.IsStaff)
                await audit.RecordAsync(request.Context, AuditEventKinds.StaffGranted, created, request.User);
            if (created.IsSuperuser)
                await audit.RecordAsync(request.Context, AuditEventKinds.SuperuserGranted, created, request.User);
            if (!created.IsActive)
                await audit.RecordAsync(request.Context, AuditEventKinds.UserDeactivated, created, request.User);
            return new UserWithGroups(created, [.. groups.Distinct().Order()]);
        }

        public override async Task<UserWithGroups?> UpdateAsync(ApiRequest request, UserWithGroups current, ValidatedData data)
        {
            var updated = await WriteAsync(() => Users(request).UpdateUserAsync(current.User.Id,
                new UserChanges(data.Get(Username), data.Get(Email), data.Has(Groups) ? data.Get(Groups) : null)
                {
                    EmailVerified = true,
                    IsActive = data.Has(IsActive) ? data.Get(IsActive) : (bool?)null,
                    IsStaff = data.Has(IsStaffFlag) ? data.Get(IsStaffFlag) : (bool?)null,
                    IsSuperuser = data.Has(IsSuperuserFlag) ? data.Get(IsSuperuserFlag) : (bool?)null,
                },
                request.Aborted));
            if (updated is not null)
                await RecordChangesAsync(request, current.User, updated.User);
            return updated;
        }

        /// <summary>The audit trail's record of what a staff change did to the account's standing.</summary>
        private static async Task RecordChangesAsync(ApiRequest request, User before, User after)
        {
            var audit = request.Service<AuditTrail>();
            foreach (var (was, now, granted, revoked) in ((bool, bool, string, string)[])[
                         (before.IsActive, after.IsActive, AuditEventKinds.UserActivated, AuditEventKinds.UserDeactivated),
                         (before.IsStaff, after.IsStaff, AuditEventKinds.StaffGranted, AuditEventKinds.StaffRevoked),
                         (before.IsSuperuser, after.IsSuperuser, AuditEventKinds.SuperuserGranted, AuditEventKinds.SuperuserRevoked)])
            {
                if (was != now)
                    await audit.RecordAsync(request.Context, now ? granted : revoked, after, request.User);
            }
            if (before.Email != after.Email)
                await audit.RecordAsync(request.Context, AuditEventKinds.EmailChanged, after, request.User, $"From {before.Email} to {after.Email}.");
        }

        /// <summary>Deleting a user ends their sessions with them (the store cascades).</summary>
        public override async Task DeleteAsync(ApiRequest request, UserWithGroups current)
        {
            try
            {
                await Users(request).DeleteUserAsync(current.User.Id, request.Aborted);
            }
            catch (UserStillReferencedException e)
            {
                throw new ApiRefusalException(ApiResponse.Detail(StatusCodes.Status409Conflict, e.Message));
            }
            await request.Service<AuditTrail>().RecordAsync(request.Context, AuditEventKinds.UserDeleted, current.User, request.User);
        }

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
