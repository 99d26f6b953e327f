"""Django's own forms for the account flows, with the few fields and the e-mail link this project adds."""
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm

from accounts import mail

# The project's user model: auth.User, or customuser.User with DJANGO_BACKEND_CUSTOM_USER=1.
User = get_user_model()


class SignupForm(UserCreationForm):
    """UserCreationForm plus a required address, which the password validators also compare against."""

    email = forms.EmailField(max_length=254)

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


class PasswordResetLinkForm(PasswordResetForm):
    """Django's form, its choice of users, uid and token; the e-mail links to the frontend's page."""

    def __init__(self, request, *args, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        user = context["user"]
        link = mail.frontend_link(self.request, settings.PASSWORD_RESET_URL, uid=context["uid"], token=context["token"])
        mail.send("Password reset",
                  f"Hello {user.get_username()},\n\nto choose a new password, open\n\n{link}\n\n"
                  "If you did not ask for this, ignore this e-mail.\n",
                  to_email, "password reset", user)


class ResetConfirmFields(forms.Form):
    """The fields of a reset confirmation, each required, checked before the uid and the token."""

    uid = forms.CharField()
    token = forms.CharField()
    new_password1 = forms.CharField(strip=False)
    new_password2 = forms.CharField(strip=False)


class AddressForm(forms.Form):
    """An address to send to, with PasswordResetForm's rules."""

    email = forms.EmailField(max_length=254)


class ProfileForm(forms.ModelForm):
    """What users may change of themselves."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")


class VerificationKeyForm(forms.Form):
    key = forms.CharField()
