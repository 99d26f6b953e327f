"""manage.py seed_users [--extra N]: the users and groups every test expects.

alice (staff; groups staff and readers) and bob (readers) with passwords "<name>-password", then N
more (user000, user001, ...) with unusable passwords, so that /api/users/ spans several pages. Their
addresses count as verified: staff set them (docs/accounts.md).
Creates only what is missing: running it twice changes nothing.
"""
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import verification
from django.contrib.auth import get_user_model

# The project's user model: auth.User, or customuser.User with DJANGO_BACKEND_CUSTOM_USER=1.
User = get_user_model()


class Command(BaseCommand):
    help = "Create the reference users (alice, bob, user000...) and groups (staff, readers)."

    def add_arguments(self, parser):
        parser.add_argument("--extra", type=int, default=25, help="how many password-less users to add")

    @transaction.atomic
    def handle(self, *args, extra, **options):
        staff = Group.objects.get_or_create(name="staff")[0]
        readers = Group.objects.get_or_create(name="readers")[0]
        for username, is_staff, groups in (("alice", True, [staff, readers]), ("bob", False, [readers])):
            if User.objects.filter(username=username).exists():
                continue
            user = User.objects.create_user(username, f"{username}@example.org", f"{username}-password",
                                            is_staff=is_staff)
            user.groups.add(*groups)
            verification.mark_verified(user)
        for number in range(extra):
            username = f"user{number:03d}"
            if not User.objects.filter(username=username).exists():
                user = User(username=username, email=f"{username}@example.org")
                user.set_unusable_password()
                user.save()
                verification.mark_verified(user)
        self.stdout.write(f"{User.objects.count()} users, {Group.objects.count()} groups")
