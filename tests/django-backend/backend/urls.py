"""The frontend guide's URLs: /auth/ (the JSON session endpoints), /api/ (DRF's browsable, hyperlinked
router) and /api-auth/ (DRF's form login and logout for the browsable pages)."""
import os

import rest_framework
from django.urls import include, path, re_path
from django.views.static import serve
from rest_framework.routers import DefaultRouter

from accounts import api, views

router = DefaultRouter()
router.register("users", api.UserViewSet)
router.register("groups", api.GroupViewSet)

urlpatterns = [
    path("auth/csrf", views.csrf_token),
    path("auth/login", views.log_in),
    path("auth/logout", views.log_out),
    path("auth/user", views.current_user),
    path("api/", include(router.urls)),
    path("api-auth/", include("rest_framework.urls", namespace="rest_framework")),
    # DRF's CSS and JS, served by Django itself (no collectstatic, no web server in front), so the
    # browsable pages look as they do in production.
    re_path(r"^static/(?P<path>.*)$", serve,
            {"document_root": os.path.join(os.path.dirname(rest_framework.__file__), "static")}),
]
