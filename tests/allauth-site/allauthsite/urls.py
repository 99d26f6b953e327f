"""URLs of the django-allauth peer: allauth's account views, its headless API (new allauth only), a DRF list.

  /accounts/        allauth.urls: login, logout, signup, password, email, (new) 2fa/ ...
  /_allauth/        allauth.headless.urls (new): browser/v1/... and app/v1/..., openapi.json/.yaml/.html
  /api/             DRF's DefaultRouter: users/ (read-only, signed-in users, 10 a page) and me/
  /api-auth/        DRF's own login and logout forms for the browsable API
"""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import include, path
from rest_framework import routers, serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_staff"]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = get_user_model().objects.order_by("id")
    serializer_class = UserSerializer


@api_view(["GET"])
def me(request):
    """The signed-in user: a whoami URL for clients of the form login."""
    return Response(UserSerializer(request.user).data)


router = routers.DefaultRouter()
router.register("users", UserViewSet)

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("api/me/", me, name="me"),
    path("api/", include(router.urls)),
    path("api-auth/", include("rest_framework.urls")),
]
if settings.NEW:
    urlpatterns.append(path("_allauth/", include("allauth.headless.urls")))
