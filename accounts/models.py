"""Users, plans and per-user quota overrides."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Plan(models.Model):
    """A bundle of limits; every user has one (the default plan when none is set)."""

    name = models.CharField(max_length=64, unique=True)
    daily_renders = models.PositiveIntegerField(default=10)
    monthly_renders = models.PositiveIntegerField(default=100)
    concurrent_renders = models.PositiveIntegerField(default=2)
    max_media_seconds = models.PositiveIntegerField(default=3 * 3600, help_text="Longest media a job may take.")
    is_default = models.BooleanField(default=False, help_text="Given to users without a plan.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EcgUserManager(UserManager):
    """Emails are stored lower-cased so uniqueness and login are case-insensitive."""

    def _create_user(self, username, email, password, **extra_fields):
        return super()._create_user(username, (email or "").strip().lower(), password, **extra_fields)

    def create_user(self, email=None, password=None, username=None, **extra_fields):
        return super().create_user(username or (email or "").split("@")[0], email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, username=None, **extra_fields):
        return super().create_superuser(username or (email or "").split("@")[0], email, password,
                                        **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=(username or "").strip())


class User(AbstractUser):
    """Logs in by email; ``username`` is a display name (not unique)."""

    class Provider(models.TextChoices):
        LOCAL = "local", "local"
        GOOGLE = "google", "google"

    username = models.CharField(max_length=150)
    email = models.EmailField(unique=True)
    auth_provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.LOCAL)
    is_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="users")

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = EcgUserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.email


class QuotaOverride(models.Model):
    """Per-user limits that win over the plan's; empty fields fall back to the plan."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quota_override")
    daily_renders = models.PositiveIntegerField(null=True, blank=True)
    monthly_renders = models.PositiveIntegerField(null=True, blank=True)
    concurrent_renders = models.PositiveIntegerField(null=True, blank=True)
    max_media_seconds = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True, default="")

    def __str__(self) -> str:
        return f"override for {self.user_id}"
