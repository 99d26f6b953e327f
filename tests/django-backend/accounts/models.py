"""The one thing Django's User has no place for: which e-mail address its owner has proved to be theirs."""
from django.conf import settings
from django.db import models
from django.utils import timezone


class EmailVerification(models.Model):
    """The address a user last verified. Theirs is verified iff this holds their current address."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="email_verification")
    email = models.EmailField(max_length=254)
    verified_at = models.DateTimeField(default=timezone.now)
