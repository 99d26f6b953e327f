"""The /api/ resources: users and groups, hyperlinked, paginated, browsable (DRF's defaults)."""
from django.contrib.auth.models import Group, User
from rest_framework import permissions, serializers, viewsets


class UserSerializer(serializers.HyperlinkedModelSerializer):
    class Meta:
        model = User
        fields = ["url", "username", "email", "groups"]


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


class GroupViewSet(viewsets.ModelViewSet):
    queryset = Group.objects.order_by("id")
    serializer_class = GroupSerializer
    permission_classes = [SignedInReadsStaffWrites]
