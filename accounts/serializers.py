from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

User = get_user_model()


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="username", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "auth_provider", "is_active", "is_verified", "created_at"]
        read_only_fields = fields


class SignupSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=True)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(required=False, allow_blank=True)


# --- response shapes (they render the responses and are the schema) ---------------------------------
@extend_schema_field(serializers.ChoiceField(choices=["bearer"]))
class BearerTokenTypeField(serializers.Field):
    """The constant ``"bearer"`` every token response carries (OAuth 2 style)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return "bearer"


class TokenResponseSerializer(serializers.Serializer):
    """The refresh response (the JWT cookies are set as well)."""

    # Rendered from the service's TokenPair.

    access_token = serializers.CharField(source="access")
    token_type = BearerTokenTypeField()


class AuthResponseSerializer(serializers.Serializer):
    """Signup/login responses (the JWT cookies are set as well)."""

    # Rendered from {"tokens": TokenPair, "user": User}.

    access_token = serializers.CharField(source="tokens.access")
    token_type = BearerTokenTypeField()
    user = UserSerializer()


class MessageResponseSerializer(serializers.Serializer):
    """A body that only carries a human message (logout)."""

    message = serializers.CharField()
