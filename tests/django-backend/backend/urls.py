"""The frontend guide's URLs: /auth/ (the JSON session endpoints and the account flows of docs/accounts.md),
/api/ (DRF's browsable, hyperlinked router) and /api-auth/ (DRF's form login and logout for the browsable pages)."""
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
    # The account flows answer with and without a trailing slash (docs/accounts.md); the seed's paths above
    # keep theirs as they were.
    re_path(r"^auth/password/change/?$", views.password_change),
    re_path(r"^auth/password/reset/?$", views.password_reset),
    re_path(r"^auth/password/reset/confirm/?$", views.password_reset_confirm),
    re_path(r"^auth/signup/?$", views.signup),
    re_path(r"^auth/email/verify/?$", views.email_verify),
    re_path(r"^auth/email/verify/resend/?$", views.email_verify_resend),
    path("api/", include(router.urls)),
    path("api-auth/", include("rest_framework.urls", namespace="rest_framework")),
    # A page of the project's own, outside the guide's paths: what stays Django's when Postern serves /auth/ and /api/.
    path("pages/whoami", views.page),
    # DRF's CSS and JS, served by Django itself (no collectstatic, no web server in front), so the
    # browsable pages look as they do in production.
    re_path(r"^static/(?P<path>.*)$", serve,
            {"document_root": os.path.join(os.path.dirname(rest_framework.__file__), "static")}),
]
