"""The /auth/ endpoints of the frontend guide and the account flows (docs/accounts.md), as a Django
project would write them.

Django does the work: CsrfViewMiddleware checks every POST and PATCH (login included), django.contrib.auth
authenticates and rotates the session key and the CSRF token at login, logout flushes the session; the
account flows are Django's forms (PasswordChangeForm, PasswordResetForm, SetPasswordForm,
UserCreationForm), its validators and its token generator, as dj-rest-auth uses them. What Django leaves
open is chosen here: JSON or form bodies, JSON answers with DRF's "detail" and DRF's shape of field errors.
"""
import io
import json
import time

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.http import JsonResponse, QueryDict
from django.middleware.csrf import get_token, rotate_token
from django.urls import reverse
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import verification
from accounts.forms import (AddressForm, PasswordResetLinkForm, ProfileForm, ResetConfirmFields, SignupForm,
                            VerificationKeyForm)
from django.contrib.auth import get_user_model

# The project's user model: auth.User, or customuser.User with DJANGO_BACKEND_CUSTOM_USER=1.
User = get_user_model()

MALFORMED = "Malformed request body."
NOT_A_STRING = "Not a valid string."  # DRF's CharField message
NOT_SIGNED_IN = "Authentication credentials were not provided."
INVALID = ["Invalid value"]  # dj-rest-auth's, for a bad uid, token or key


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
    if settings.EMAIL_VERIFICATION == "mandatory" and not verification.is_verified(user):
        return _detail("E-mail is not verified.", 403)
    _signed_in(request, user)
    return JsonResponse({"detail": "Successfully logged in.", "username": user.get_username()})


@require_http_methods(["GET", "POST"])
def log_out(request):
    """GET, as the frontend guide documents it, and POST."""
    auth.logout(request)
    return _detail("Successfully logged out.", 200)


# The account flows. Each reads its body with _read_fields, hands the strings to a Django form and answers
# the form's errors in DRF's shape, fields in the contract's order.

def _read_fields(request):
    """The body's fields: a JSON object's, or a form's (urlencoded or multipart, POST or PATCH); None when the
    body is JSON but not an object."""
    if request.content_type == "application/json":
        try:
            fields = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return fields if isinstance(fields, dict) else None
    if request.method == "POST":
        return request.POST
    # Django parses form bodies of POSTs only.
    if request.content_type == "application/x-www-form-urlencoded":
        return QueryDict(request.body, encoding=request.encoding)
    if request.content_type == "multipart/form-data":
        return request.parse_file_upload(request.META, io.BytesIO(request.body))[0]
    return QueryDict()


def _strings(fields, names):
    """(data, errors): the named fields that are strings (or null) for a form, and DRF's "Not a valid string."
    for JSON values of another type, which the forms would otherwise turn into strings."""
    data, errors = {}, {}
    for name in names:
        if name not in fields:
            continue
        value = fields.get(name)
        if value is None or isinstance(value, str):
            data[name] = value
        else:
            errors[name] = [NOT_A_STRING]
    return data, errors


def _errors(form):
    return {name: [error["message"] for error in errors] for name, errors in form.errors.get_json_data().items()}


def _field_errors(order, *error_dicts):
    """400 with field name -> messages, fields in the contract's order; later dictionaries win."""
    merged = {}
    for errors in error_dicts:
        merged.update(errors)
    return JsonResponse({name: merged[name] for name in order if name in merged}, status=400)


def _form(request, form_class, names, *args):
    """(form, None) when the body's fields make a valid form, else (None, the 400 to answer)."""
    fields = _read_fields(request)
    if fields is None:
        return None, _detail(MALFORMED, 400)
    data, type_errors = _strings(fields, names)
    form = form_class(*args, data=data)
    if type_errors or not form.is_valid():
        return None, _field_errors(names, _errors(form), type_errors)
    return form, None


# Postern:Accounts:ReauthSeconds: how long a login counts as a recent authentication (allauth's
# ACCOUNT_REAUTHENTICATION_TIMEOUT). Postern's sensitive actions need one; GET /auth/user says how long it lasts.
REAUTHENTICATION_SECONDS = 300


def _signed_in(request, user):
    """auth.login, remembering when, for the reauthentication window."""
    auth.login(request, user)
    request.session["authenticated_at"] = time.time()


def _reauthentication_seconds_left(request):
    at = request.session.get("authenticated_at") if request.user.is_authenticated else None
    return 0 if at is None else max(0, int(REAUTHENTICATION_SECONDS - (time.time() - at)))


def _user_json(request, user):
    return {
        "url": request.build_absolute_uri(reverse("user-detail", args=[user.pk])),
        "username": user.get_username(),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_staff": user.is_staff,
        "email_verified": verification.is_verified(user),
        "reauthentication_seconds_left": _reauthentication_seconds_left(request),
    }


@require_http_methods(["GET", "PATCH"])
def current_user(request):
    if not request.user.is_authenticated:
        return _detail(NOT_SIGNED_IN, 403)
    user = request.user
    if request.method == "PATCH":
        # PATCH: the fields not sent keep their values; username, is_staff and the rest are not the form's.
        names = list(ProfileForm.Meta.fields)
        fields = _read_fields(request)
        if fields is None:
            return _detail(MALFORMED, 400)
        data, type_errors = _strings(fields, names)
        old_email = user.email
        form = ProfileForm({**{name: getattr(user, name) for name in names}, **data}, instance=user)
        if type_errors or not form.is_valid():
            return _field_errors(names, _errors(form), type_errors)
        form.save()
        if user.email != old_email:
            verification.forget(user)
            if user.email and settings.EMAIL_VERIFICATION != "none":
                verification.send_email(request, user)
    return JsonResponse(_user_json(request, user))


@require_POST
def password_change(request):
    if not request.user.is_authenticated:
        return _detail(NOT_SIGNED_IN, 403)
    form, refusal = _form(request, PasswordChangeForm, ["old_password", "new_password1", "new_password2"], request.user)
    if refusal:
        return refusal
    form.save()
    # This session stays signed in under a new key; the others fail their hash check from now on.
    auth.update_session_auth_hash(request, form.user)
    rotate_token(request)
    return _detail("New password has been saved.", 200)


@require_POST
def password_reset(request):
    form, refusal = _form(request, PasswordResetLinkForm, ["email"], request)
    if refusal:
        return refusal
    form.save(request=request, from_email=settings.DEFAULT_FROM_EMAIL)
    return _detail("Password reset e-mail has been sent.", 200)


def _user_of_uid(uid):
    """Django's PasswordResetConfirmView.get_user."""
    try:
        pk = User._meta.pk.to_python(urlsafe_base64_decode(uid).decode())
        return User._default_manager.get(pk=pk)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist, ValidationError):
        return None


@require_POST
def password_reset_confirm(request):
    # In this order: the fields, the uid, the token, the new password (dj-rest-auth's order).
    names = ["uid", "token", "new_password1", "new_password2"]
    entered, refusal = _form(request, ResetConfirmFields, names)
    if refusal:
        return refusal
    user = _user_of_uid(entered.cleaned_data["uid"])
    if user is None:
        return JsonResponse({"uid": INVALID}, status=400)
    if not default_token_generator.check_token(user, entered.cleaned_data["token"]):
        return JsonResponse({"token": INVALID}, status=400)
    form = SetPasswordForm(user, data=entered.cleaned_data)
    if not form.is_valid():
        return _field_errors(names, _errors(form))
    form.save()  # the password hash changes: every session of the user fails its hash check, the token is spent
    return _detail("Password has been reset with the new password.", 200)


@require_POST
def signup(request):
    if not settings.SIGNUP_ENABLED:
        return _detail("Sign-up is closed.", 403)
    form, refusal = _form(request, SignupForm, ["username", "email", "password1", "password2"])
    if refusal:
        return refusal
    user = form.save()
    if settings.EMAIL_VERIFICATION != "mandatory":
        _signed_in(request, user)
    if settings.EMAIL_VERIFICATION != "none":
        verification.send_email(request, user)
    return JsonResponse(_user_json(request, user), status=201)


@require_POST
def email_verify(request):
    form, refusal = _form(request, VerificationKeyForm, ["key"])
    if refusal:
        return refusal
    user = verification.user_for_key(form.cleaned_data["key"])
    if user is None:
        return JsonResponse({"key": INVALID}, status=400)
    verification.mark_verified(user)
    return _detail("E-mail address verified.", 200)


@require_POST
def email_verify_resend(request):
    form, refusal = _form(request, AddressForm, ["email"])
    if refusal:
        return refusal
    email = form.cleaned_data["email"]
    for user in User._default_manager.filter(email__iexact=email, is_active=True):
        if not verification.is_verified(user):
            verification.send_email(request, user)
    return _detail("Verification e-mail sent.", 200)


@require_GET
def page(request):
    """A page of the project's own, outside the API: what a Django project keeps serving beside Postern
    (docs/deployment.md#beside-a-running-django-project), signed in by whichever of the two opened the session."""
    from django.http import HttpResponse
    from django.utils.html import escape
    who = f"Signed in as {escape(request.user.get_username())}." if request.user.is_authenticated else "Not signed in."
    return HttpResponse(f"<!doctype html><title>A page of the project's</title><p>{who}</p>", content_type="text/html")
