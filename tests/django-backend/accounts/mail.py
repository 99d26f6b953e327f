"""The two e-mails the account flows send: a link to the frontend's page, sent without failing the request."""
import logging

from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger("accounts")


def frontend_link(request, template, **values):
    """The link template of a setting with {name} filled in; a path is taken as relative to this server."""
    link = template
    for name, value in values.items():
        link = link.replace("{%s}" % name, value)
    return request.build_absolute_uri(link)


def send(subject, body, to_email, what, user):
    """Sends one plain-text e-mail; a failure is logged, as Django's PasswordResetForm.send_mail does."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to_email])
    except Exception:
        logger.exception("Failed to send %s e-mail to %s", what, user.pk)
