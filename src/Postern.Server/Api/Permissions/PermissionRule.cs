namespace Postern.Server.Api;

/// <summary>
/// Who may do what (DRF's BasePermission): asked once per request before the view runs, and once per object the view
/// touches. Composable with <c>&amp;</c>, <c>|</c> and <c>!</c>. The pipeline and the browsable page (which forms to show)
/// ask the same objects, in one place each.
/// </summary>
public abstract class PermissionRule
{
    public const string Denied = "You do not have permission to perform this action.";

    /// <summary>What a signed-in user who is refused is told (an anonymous one is told to sign in).</summary>
    public virtual string Message => Denied;

    /// <summary>Who passes, in words for the OpenAPI document ("staff"): a field shown to or writable by only them says so.</summary>
    public virtual string Who => "users this rule admits";

    /// <summary>DRF's has_permission: may this request (its user, its method) reach the view at all?</summary>
    public virtual bool HasPermission(ApiRequest request) => true;

    /// <summary>DRF's has_object_permission: may it act on this object?</summary>
    public virtual bool HasObjectPermission(ApiRequest request, object instance) => true;

    public static PermissionRule operator &(PermissionRule left, PermissionRule right) => new Both(left, right);

    public static PermissionRule operator |(PermissionRule left, PermissionRule right) => new Either(left, right);

    public static PermissionRule operator !(PermissionRule permission) => new Not(permission);

    public static PermissionRule BitwiseAnd(PermissionRule left, PermissionRule right) => left & right;

    public static PermissionRule BitwiseOr(PermissionRule left, PermissionRule right) => left | right;

    public static PermissionRule LogicalNot(PermissionRule permission) => !permission;

    private sealed class Both(PermissionRule left, PermissionRule right) : PermissionRule
    {
        public override string Message => left.Message;
        public override bool HasPermission(ApiRequest request) => left.HasPermission(request) && right.HasPermission(request);
        public override bool HasObjectPermission(ApiRequest request, object instance) =>
            left.HasObjectPermission(request, instance) && right.HasObjectPermission(request, instance);
    }

    private sealed class Either(PermissionRule left, PermissionRule right) : PermissionRule
    {
        public override bool HasPermission(ApiRequest request) => left.HasPermission(request) || right.HasPermission(request);

        // As DRF's OR: an object is allowed by a side that also allowed the request.
        public override bool HasObjectPermission(ApiRequest request, object instance) =>
            (left.HasPermission(request) && left.HasObjectPermission(request, instance))
            || (right.HasPermission(request) && right.HasObjectPermission(request, instance));
    }

    private sealed class Not(PermissionRule permission) : PermissionRule
    {
        public override bool HasPermission(ApiRequest request) => !permission.HasPermission(request);
        public override bool HasObjectPermission(ApiRequest request, object instance) => !permission.HasObjectPermission(request, instance);
    }
}

/// <summary>The permissions Postern's resources use, as DRF names them.</summary>
public static class ApiPermissions
{
    /// <summary>Anyone, signed in or not (the OpenAPI document).</summary>
    public static readonly PermissionRule AllowAny = new AllowAnyPermission();

    /// <summary>A signed-in user.</summary>
    public static readonly PermissionRule IsAuthenticated = new IsAuthenticatedPermission();

    /// <summary>A signed-in staff member.</summary>
    public static readonly PermissionRule IsStaff = new IsStaffPermission();

    /// <summary>A signed-in superuser.</summary>
    public static readonly PermissionRule IsSuperuser = new IsSuperuserPermission();

    /// <summary>Reads for anyone who got this far; writes for staff (the reference backend's SignedInReadsStaffWrites).</summary>
    public static readonly PermissionRule IsStaffOrReadOnly = new ReadOnlyPermission() | IsStaff;

    private sealed class AllowAnyPermission : PermissionRule;

    private sealed class IsAuthenticatedPermission : PermissionRule
    {
        public override bool HasPermission(ApiRequest request) => request.IsAuthenticated;
    }

    private sealed class IsStaffPermission : PermissionRule
    {
        public override string Who => "staff";

        public override bool HasPermission(ApiRequest request) => request.IsAuthenticated && request.User.IsStaff;
    }

    private sealed class IsSuperuserPermission : PermissionRule
    {
        public override string Who => "superusers";

        public override bool HasPermission(ApiRequest request) => request.IsAuthenticated && request.User.IsSuperuser;
    }

    /// <summary>DRF's SAFE_METHODS check, on its own so that it composes.</summary>
    private sealed class ReadOnlyPermission : PermissionRule
    {
        public override bool HasPermission(ApiRequest request) => Protocol.SafeMethods.Contains(request.Method);
    }
}
