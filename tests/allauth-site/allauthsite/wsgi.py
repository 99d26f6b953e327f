"""The WSGI application that gunicorn serves (run.sh)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allauthsite.settings")
application = get_wsgi_application()
