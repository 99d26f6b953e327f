"""E-mail verification: signed keys (django.core.signing) and the verified state (EmailVerification)."""
from django.conf import settings
from django.core import signing
from django.utils import timezone

from accounts import mail
from accounts.models import EmailVerification
from django.contrib.auth import get_user_model

# The project's user model: auth.User, or customuser.User with DJANGO_BACKEND_CUSTOM_USER=1.
User = get_user_model()

SALT = "postern.accounts.email-verification"


def make_key(user):
    return signing.dumps([user.pk, user.email], salt=SALT)


def user_for_key(key):
    """The user whose current address the key was made for, or None (bad signature, expired, address changed)."""
    try:
        user_id, email = signing.loads(key, salt=SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return User.objects.filter(pk=user_id, email=email).first()


def is_verified(user):
    return bool(user.email) and EmailVerification.objects.filter(user=user, email=user.email).exists()


def mark_verified(user):
    if user.email and not is_verified(user):
        EmailVerification.objects.update_or_create(
            user=user, defaults={"email": user.email, "verified_at": timezone.now()})


def forget(user):
    """The user's address changed: whatever was verified before no longer counts."""
    EmailVerification.objects.filter(user=user).delete()


def send_email(request, user):
    link = mail.frontend_link(request, settings.EMAIL_VERIFY_URL, key=make_key(user))
    mail.send("Verify your e-mail address",
              f"Hello {user.get_username()},\n\nto verify that {user.email} is your address, open\n\n{link}\n",
              user.email, "verification", user)
