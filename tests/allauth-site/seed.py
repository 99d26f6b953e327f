#!/usr/bin/python3
"""Seeds the django-allauth peer's database (after `manage.py migrate`); run.sh runs it at each start.

  alice / alice-password   alice@example.com, staff and superuser
  bob   / bob-password     bob@example.com
  carol / carol-password   carol@example.com; on the new allauth with TOTP (allauth.mfa) under the secret
                           CAROL_TOTP_SECRET below, and recovery codes, written to
                           $ALLAUTH_SITE_DIR/carol-recovery-codes.txt
  user00 ... user29        userNN@example.com, no usable password: the DRF list spans 4 pages of 10

Every address is an allauth EmailAddress (verified, primary), as allauth's own sign-up would leave it.
Running it again on a seeded database changes nothing.
"""
import os
import sys

CAROL_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
EXTRA_USERS = 30

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allauthsite.settings")

import django  # noqa: E402

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402

User = get_user_model()


def user(username, password=None, staff=False):
    email = f"{username}@example.com"
    u, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        u.is_staff = u.is_superuser = staff
        if password:
            u.set_password(password)
        else:
            u.set_unusable_password()
        u.save()
    EmailAddress.objects.get_or_create(user=u, email=email, defaults={"verified": True, "primary": True})
    return u


with transaction.atomic():
    user("alice", "alice-password", staff=True)
    user("bob", "bob-password")
    carol = user("carol", "carol-password")
    for i in range(EXTRA_USERS):
        user(f"user{i:02d}")

    if settings.NEW:
        from allauth.mfa.models import Authenticator
        from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
        from allauth.mfa.totp.internal.auth import TOTP

        if not Authenticator.objects.filter(user=carol, type=Authenticator.Type.TOTP).exists():
            # allauth's own activation: the secret is stored through the MFA adapter's encrypt().
            TOTP.activate(carol, CAROL_TOTP_SECRET)
        rc = Authenticator.objects.filter(user=carol, type=Authenticator.Type.RECOVERY_CODES).first()
        codes = RecoveryCodes(rc) if rc else RecoveryCodes.activate(carol)
        with open(os.path.join(settings.DATA_DIR, "carol-recovery-codes.txt"), "w") as f:
            f.write("\n".join(codes.get_unused_codes()) + "\n")

print(f"seeded {User.objects.count()} users" + (" (carol with TOTP)" if settings.NEW else ""))
