"""A project's own user model (DJANGO_BACKEND_CUSTOM_USER=1): what Django's documentation tells every new project to start
with, so what Postern beside a Django project meets when the project did (Postern:Django:UserTable)."""
