from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """AbstractUser's columns in a table of the project's own, and one column more that Postern neither reads nor fills.

    The extra column may be NULL (or have a database default): Postern creates users with AbstractUser's columns only.
    """

    nickname = models.CharField(max_length=64, blank=True, null=True)

    class Meta:
        db_table = "customuser_user"
