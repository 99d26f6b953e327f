"""The /auth/ endpoints of the frontend guide, as a Django project would write them.

Django does the work: CsrfViewMiddleware checks every POST (login included), django.contrib.auth
authenticates and rotates the session key and the CSRF token at login, logout flushes the session.
What Django leaves open is chosen here: JSON or form bodies, and JSON answers with DRF's "detail".
"""
import json

from django.contrib import auth
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST


def _detail(message, status):
    return JsonResponse({"detail": message}, status=status)


@require_GET
@ensure_csrf_cookie
def csrf_token(request):
    """Sets the csrftoken cookie; the masked token also comes in the body and a header."""
    token = get_token(request)
    response = JsonResponse({"csrfToken": token})
    response["X-CSRFToken"] = token
    return response


def _read_credentials(request):
    """(username, password) from a JSON object or form fields; None when the JSON is not an object."""
    if request.content_type != "application/json":
        return request.POST.get("username"), request.POST.get("password")
    try:
        fields = json.loads(request.body or b"{}")
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    return fields.get("username"), fields.get("password")


@require_POST
def log_in(request):
    credentials = _read_credentials(request)
    if credentials is None:
        return _detail("Malformed request body.", 400)
    username, password = credentials
    if not (isinstance(username, str) and username and isinstance(password, str)):
        return _detail("Both username and password are required.", 400)
    user = auth.authenticate(request, username=username, password=password)
    if user is None:
        # One answer for a wrong password, an unknown user and an inactive one.
        return _detail("Invalid username or password.", 401)
    auth.login(request, user)
    return JsonResponse({"detail": "Successfully logged in.", "username": user.get_username()})


@require_http_methods(["GET", "POST"])
def log_out(request):
    """GET, as the frontend guide documents it, and POST."""
    auth.logout(request)
    return _detail("Successfully logged out.", 200)


@require_GET
def current_user(request):
    if not request.user.is_authenticated:
        return _detail("Authentication credentials were not provided.", 403)
    return JsonResponse({"username": request.user.get_username()})
