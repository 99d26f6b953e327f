"""The /api/ resources: users and groups, hyperlinked, paginated, browsable (DRF's defaults), and the
set_password action of the DRF tutorial on users."""
from django.contrib.auth import get_user_model, password_validation, update_session_auth_hash
from django.core.exceptions import ValidationError as DjangoValidationError
from django.contrib.auth.models import Group
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import verification

# The project's user model: auth.User, or customuser.User with DJANGO_BACKEND_CUSTOM_USER=1.
User = get_user_model()


class UserSerializer(serializers.HyperlinkedModelSerializer):
    class Meta:
        model = User
        fields = ["url", "username", "email", "groups"]


class StaffUserSerializer(UserSerializer):
    """What staff see of a user: the account's flags too, which only superusers may change."""

    class Meta(UserSerializer.Meta):
        fields = UserSerializer.Meta.fields + ["is_active", "is_staff", "is_superuser"]
        read_only_fields = ["is_active", "is_staff", "is_superuser"]


class SuperuserUserSerializer(StaffUserSerializer):
    class Meta(StaffUserSerializer.Meta):
        read_only_fields = []


class GroupSerializer(serializers.HyperlinkedModelSerializer):
    class Meta:
        model = Group
        fields = ["url", "name"]


class SignedInReadsStaffWrites(permissions.BasePermission):
    """Any signed-in user may read; only staff may create, change or delete."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.user.is_staff


class UserViewSet(viewsets.ModelViewSet):
    queryset = User.objects.order_by("id")
    serializer_class = UserSerializer
    permission_classes = [SignedInReadsStaffWrites]

    def get_serializer_class(self):
        user = self.request.user
        if user.is_superuser and user.is_staff:
            return SuperuserUserSerializer
        return StaffUserSerializer if user.is_staff else UserSerializer

    # Addresses that staff set count as verified: staff vouch for them (docs/accounts.md).
    def perform_create(self, serializer):
        verification.mark_verified(serializer.save())

    def perform_update(self, serializer):
        old_email = serializer.instance.email
        user = serializer.save()
        if user.email != old_email:
            verification.forget(user)
            verification.mark_verified(user)

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAdminUser])
    def set_password(self, request, pk=None):
        """The DRF tutorial's action, as DRF parses and validates it: a serializer field, Django's validators."""
        user = self.get_object()
        serializer = SetPasswordSerializer(data=request.data, context={"user": user})
        serializer.is_valid(raise_exception=True)
        user.set_password(serializer.validated_data["password"])
        user.save()
        # The user's sessions end (their hash no longer matches); staff who set their own stay signed in.
        if user.pk == request.user.pk:
            update_session_auth_hash(request, user)
        return Response({"status": "password set"})


class SetPasswordSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, trim_whitespace=False)

    def validate_password(self, password):
        try:
            password_validation.validate_password(password, self.context["user"])
        except DjangoValidationError as error:
            raise serializers.ValidationError(list(error.messages))
        return password


class GroupViewSet(viewsets.ModelViewSet):
    queryset = Group.objects.order_by("id")
    serializer_class = GroupSerializer
    permission_classes = [SignedInReadsStaffWrites]
