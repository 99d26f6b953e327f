from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The reference backend's only app: the /auth/ views, the /api/ resources, seed_users."""

    name = "accounts"
