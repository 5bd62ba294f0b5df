"""Thin views: parse, call one service or selector, serialize."""

from typing import Any, cast

from django.middleware.csrf import get_token
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import permissions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.api import ERRORS, ApiErrorSerializer, AuthedRequest, IsAdvisor

from .. import risk, selectors, services
from ..exceptions import QuestionnaireInvalid, RiskProfileMissing
from ..models import Client, DeviceToken, Goal, RiskOverrideRequest, User
from . import serializers as s


def _enforce_csrf(request: Request) -> None:
    # DRF exempts anonymous calls from CSRF; a login that creates a session must not be.
    SessionAuthentication().enforce_csrf(request)


# --- Auth -----------------------------------------------------------------------------------


class CsrfApi(APIView):
    permission_classes = (permissions.AllowAny,)

    @extend_schema(tags=["auth"], responses=s.CsrfOutputSerializer)
    def get(self, request: Request) -> Response:
        """Set the CSRF cookie and return its token, for the browser client."""
        return Response({"csrf_token": get_token(request._request)})


class RegisterApi(APIView):
    permission_classes = (permissions.AllowAny,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        request=s.RegisterInputSerializer,
        responses={202: s.RegisteredOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Sign up. The answer is the same whether or not the address already has an account
        (its owner gets an email instead); a new account gets a link to verify the address and
        can log in at once."""
        payload = s.RegisterInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.user_register(**payload.validated_data)
        body = {
            "message": "Check your inbox: we sent a link to confirm your email address.",
            "email": payload.validated_data["email"].strip().lower(),
        }
        return Response(s.RegisteredOutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)


LOGIN_RESULT = PolymorphicProxySerializer(
    component_name="LoginResult",
    serializers=[s.UserOutputSerializer, s.MfaChallengeOutputSerializer],
    resource_type_field_name=None,
)


class LoginApi(APIView):
    permission_classes = (permissions.AllowAny,)
    authentication_classes = ()
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        request=s.LoginInputSerializer,
        responses={200: LOGIN_RESULT, 429: ApiErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Browser login: starts a session. Send the CSRF token (GET /auth/csrf/) as X-CSRFToken.
        With MFA on, no session yet: `{mfa_required, mfa_token}` for POST /auth/mfa/verify/."""
        _enforce_csrf(request)
        payload = s.LoginInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.session_login(request=request._request, **payload.validated_data)
        if isinstance(result, services.MfaChallenge):
            return Response(s.MfaChallengeOutputSerializer(result).data)
        return Response(s.UserOutputSerializer(result).data)


class LogoutApi(APIView):
    permission_classes = (permissions.AllowAny,)

    @extend_schema(tags=["auth"], request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        """End the session; with a token, revoke that device's token."""
        if isinstance(request.auth, DeviceToken):
            services.device_token_revoke(user=cast(User, request.user), current=request.auth)
        services.session_logout(request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(tags=["auth"], responses={200: s.UserOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest) -> Response:
        """The logged-in user, with whether the address is verified and MFA is on."""
        return Response(s.UserOutputSerializer(request.user).data)


def _token_body(token: DeviceToken, raw: str) -> dict[str, Any]:
    return {"token": raw, "token_key": token.token_key, "expiry": token.expiry, "user": token.user}


class TokenCreateApi(APIView):
    permission_classes = (permissions.AllowAny,)
    authentication_classes = ()
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        request=s.TokenCreateInputSerializer,
        responses={
            201: s.TokenOutputSerializer,
            200: s.MfaChallengeOutputSerializer,
            429: ApiErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        """Mobile login: a token for this device, expiring after AUTH_TOKEN_TTL_DAYS (renewed on
        use, never past AUTH_TOKEN_MAX_AGE_DAYS). With MFA on: 200 `{mfa_required, mfa_token}`,
        and POST /auth/mfa/verify/ gives the token."""
        payload = s.TokenCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.device_token_issue(request=request._request, **payload.validated_data)
        if isinstance(result, services.MfaChallenge):
            return Response(s.MfaChallengeOutputSerializer(result).data)
        token, raw = result
        return Response(
            s.TokenOutputSerializer(_token_body(token, raw)).data, status=status.HTTP_201_CREATED
        )


class TokenRevokeApi(APIView):
    @extend_schema(
        tags=["auth"],
        request=s.TokenRevokeInputSerializer,
        responses={200: s.RevokedOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest) -> Response:
        """Revoke a token: `all` for every device (and every browser session: sign out
        everywhere), `token_key` for one, else the calling one."""
        payload = s.TokenRevokeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["all"]:
            revoked = services.device_token_revoke_all(user=request.user)
        else:
            current = request.auth if isinstance(request.auth, DeviceToken) else None
            revoked = services.device_token_revoke(
                user=request.user, token_key=data.get("token_key"), current=current
            )
        return Response({"revoked": revoked})


class TokenListApi(ListAPIView):
    serializer_class = s.DeviceTokenOutputSerializer
    pagination_class = None

    @extend_schema(tags=["auth"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """This user's devices with a live token."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return DeviceToken.objects.none()
        return DeviceToken.objects.filter(user=self.request.user).order_by("-created")


class TokenDetailApi(APIView):
    @extend_schema(tags=["auth"], responses={204: None, **ERRORS})
    def delete(self, request: AuthedRequest, token_key: str) -> Response:
        """Revoke one device's token."""
        if not services.device_token_revoke(user=request.user, token_key=token_key):
            return Response(
                {"message": "Not found.", "code": "not_found", "extra": {}},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Password, email verification, MFA -----------------------------------------------------

ACCEPTED = {"message": "If an account has this address, we sent it a link to reset the password."}


class PasswordResetApi(APIView):
    permission_classes = (permissions.AllowAny,)
    authentication_classes = ()
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        request=s.PasswordResetInputSerializer,
        responses={202: s.DetailOutputSerializer, 429: ApiErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Email a one-time reset link. Always 202 with the same body: it never tells whether
        the address has an account."""
        payload = s.PasswordResetInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.password_reset_request(**payload.validated_data)
        return Response(ACCEPTED, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(APIView):
    permission_classes = (permissions.AllowAny,)
    authentication_classes = ()
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        request=s.PasswordResetConfirmInputSerializer,
        responses={200: s.DetailOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Set a new password from the emailed link (uid, token). Every session and device
        token of the account ends, and any lockout is lifted."""
        payload = s.PasswordResetConfirmInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.password_reset_confirm(**payload.validated_data)
        return Response({"message": "Your password was changed. Log in with the new one."})


class PasswordChangeApi(APIView):
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        request=s.PasswordChangeInputSerializer,
        responses={200: s.DetailOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest) -> Response:
        """Change the password: this session stays, every other one and every device token
        ends, and the owner gets an email."""
        payload = s.PasswordChangeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.password_change(
            request=request._request, user=request.user, **payload.validated_data
        )
        return Response({"message": "Your password was changed. Other devices were signed out."})


class EmailVerifyApi(APIView):
    permission_classes = (permissions.AllowAny,)
    authentication_classes = ()
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        request=s.EmailVerifyInputSerializer,
        responses={200: s.DetailOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Confirm the address from the emailed link (uid, token)."""
        payload = s.EmailVerifyInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.email_verify(**payload.validated_data)
        return Response({"message": "Your email address is confirmed."})


class EmailVerifyResendApi(APIView):
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(tags=["auth"], request=None, responses={202: s.DetailOutputSerializer, **ERRORS})
    def post(self, request: AuthedRequest) -> Response:
        """Send the verification link again (nothing happens once the address is verified)."""
        services.email_verification_send(user=request.user)
        return Response(
            {"message": "We sent a new confirmation link."}, status=status.HTTP_202_ACCEPTED
        )


class MfaTotpApi(APIView):
    @extend_schema(
        tags=["auth"], request=None, responses={201: s.TotpEnrolmentOutputSerializer, **ERRORS}
    )
    def post(self, request: AuthedRequest) -> Response:
        """Start enrolling an authenticator app: its otpauth:// URI, secret and QR code, shown
        once. Nothing changes until POST /auth/mfa/totp/confirm/ with a first code."""
        enrolment = services.mfa_totp_enrol(user=request.user)
        return Response(
            s.TotpEnrolmentOutputSerializer(enrolment).data, status=status.HTTP_201_CREATED
        )


class MfaTotpConfirmApi(APIView):
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        request=s.MfaCodeInputSerializer,
        responses={200: s.RecoveryCodesOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest) -> Response:
        """Turn MFA on with a first code from the app; returns ten one-time recovery codes."""
        payload = s.MfaCodeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        codes = services.mfa_totp_confirm(
            request=request._request, user=request.user, **payload.validated_data
        )
        return Response(s.RecoveryCodesOutputSerializer({"recovery_codes": codes}).data)


class MfaDisableApi(APIView):
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(tags=["auth"], request=s.MfaCodeInputSerializer, responses={204: None, **ERRORS})
    def post(self, request: AuthedRequest) -> Response:
        """Turn MFA off, with a current code (or a recovery code) as proof."""
        payload = s.MfaCodeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.mfa_disable(user=request.user, **payload.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MfaVerifyApi(APIView):
    permission_classes = (permissions.AllowAny,)
    authentication_classes = ()
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        tags=["auth"],
        request=s.MfaVerifyInputSerializer,
        responses={
            200: s.UserOutputSerializer,
            201: s.TokenOutputSerializer,
            429: ApiErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        """The login's second step: the mfa_token and a code (TOTP or recovery). A browser
        login gets its session (200, the user); a device login its token (201)."""
        _enforce_csrf(request)
        payload = s.MfaVerifyInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.mfa_login_verify(request=request._request, **payload.validated_data)
        if result.token is not None and result.raw_token is not None:
            return Response(
                s.TokenOutputSerializer(_token_body(result.token, result.raw_token)).data,
                status=status.HTTP_201_CREATED,
            )
        return Response(s.UserOutputSerializer(result.user).data)


# --- Client profile -------------------------------------------------------------------------


class ClientMeApi(APIView):
    @extend_schema(tags=["clients"], responses={200: s.ClientOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest) -> Response:
        """My profile and KYC data (the tax id masked)."""
        client = selectors.client_of_user(request.user)
        return Response(s.ClientOutputSerializer(client).data)

    @extend_schema(
        tags=["clients"],
        request=s.ClientUpdateInputSerializer,
        responses={200: s.ClientOutputSerializer, **ERRORS},
    )
    def patch(self, request: AuthedRequest) -> Response:
        """Update my profile; completing every KYC field sets the next KYC review date."""
        client = selectors.client_of_user(request.user)
        payload = s.ClientUpdateInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        client = services.client_update(client=client, data=dict(payload.validated_data))
        return Response(s.ClientOutputSerializer(client).data)


# --- Risk questionnaire ---------------------------------------------------------------------


class QuestionnaireApi(APIView):
    @extend_schema(
        tags=["risk"],
        parameters=[OpenApiParameter("version", str, description="Defaults to the current one.")],
        responses={200: s.QuestionSetOutputSerializer, **ERRORS},
    )
    def get(self, request: AuthedRequest) -> Response:
        """The risk questionnaire: the current version, or the one asked for."""
        version = request.query_params.get("version")
        try:
            question_set = risk.question_set_get(version)
        except risk.UnknownQuestionnaireVersion as exc:
            raise QuestionnaireInvalid(
                "Invalid input.", code="invalid", extra={"fields": {"version": [str(exc)]}}
            ) from exc
        return Response(s.QuestionSetOutputSerializer(question_set).data)


class QuestionnaireResponseListApi(APIView):
    @extend_schema(
        tags=["risk"], responses={200: s.QuestionnaireResponseOutputSerializer(many=True), **ERRORS}
    )
    def get(self, request: AuthedRequest) -> Response:
        """My questionnaire submissions, newest first."""
        client = selectors.client_of_user(request.user)
        responses = selectors.questionnaire_response_list(client=client)[:50]
        return Response(s.QuestionnaireResponseOutputSerializer(responses, many=True).data)

    @extend_schema(
        tags=["risk"],
        request=s.QuestionnaireResponseInputSerializer,
        responses={201: s.QuestionnaireResponseOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest) -> Response:
        """Submit answers; they are validated against the version and scored at once."""
        client = selectors.client_of_user(request.user)
        payload = s.QuestionnaireResponseInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        response = services.questionnaire_submit(client=client, **payload.validated_data)
        return Response(
            s.QuestionnaireResponseOutputSerializer(response).data, status=status.HTTP_201_CREATED
        )


class RiskProfileApi(APIView):
    @extend_schema(tags=["risk"], responses={200: s.RiskProfileOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest) -> Response:
        """My risk profile: willingness, capacity, the level and why, flags, second opinions."""
        client = selectors.client_of_user(request.user)
        profile = selectors.risk_profile_get(client=client)
        if profile is None:
            raise RiskProfileMissing("Complete the risk questionnaire to get a risk profile.")
        return Response(s.RiskProfileOutputSerializer(profile).data)


# --- Goals ----------------------------------------------------------------------------------


class GoalFilter(filters.FilterSet):
    class Meta:
        model = Goal
        fields = ("status", "goal_type", "priority")


class GoalListApi(ListAPIView):
    serializer_class = s.GoalOutputSerializer
    filterset_class = GoalFilter
    ordering_fields = ("target_date", "target_amount", "created_at", "name")

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Goal.objects.none()
        return selectors.goal_list(client=selectors.client_of_user(cast(User, self.request.user)))

    @extend_schema(tags=["goals"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """My goals, filterable by status, type and priority."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["goals"],
        request=s.GoalInputSerializer,
        responses={201: s.GoalOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest) -> Response:
        """Create a goal."""
        client = selectors.client_of_user(request.user)
        payload = s.GoalInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        goal = services.goal_create(client=client, **payload.validated_data)
        return Response(s.GoalOutputSerializer(goal).data, status=status.HTTP_201_CREATED)


class GoalDetailApi(APIView):
    @extend_schema(tags=["goals"], responses={200: s.GoalOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, goal_id: int) -> Response:
        client = selectors.client_of_user(request.user)
        return Response(
            s.GoalOutputSerializer(selectors.goal_get(client=client, goal_id=goal_id)).data
        )

    @extend_schema(
        tags=["goals"],
        request=s.GoalInputSerializer(partial=True),
        responses={200: s.GoalOutputSerializer, **ERRORS},
    )
    def patch(self, request: AuthedRequest, goal_id: int) -> Response:
        client = selectors.client_of_user(request.user)
        goal = selectors.goal_get(client=client, goal_id=goal_id)
        payload = s.GoalInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        goal = services.goal_update(goal=goal, data=dict(payload.validated_data))
        return Response(s.GoalOutputSerializer(goal).data)

    @extend_schema(
        tags=["goals"],
        responses={
            204: OpenApiResponse(description="deleted: no money ever moved in its account"),
            200: OpenApiResponse(
                s.GoalOutputSerializer,
                description="closed instead: its account has history, which is kept",
            ),
            409: OpenApiResponse(
                ApiErrorSerializer, description="its account still holds money: withdraw first"
            ),
            **ERRORS,
        },
    )
    def delete(self, request: AuthedRequest, goal_id: int) -> Response:
        """Delete a goal, or close it once money has moved in its account (history is kept).
        A goal that still holds money is refused with 409."""
        client = selectors.client_of_user(request.user)
        closed = services.goal_delete(goal=selectors.goal_get(client=client, goal_id=goal_id))
        if closed is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.GoalOutputSerializer(closed).data)


# --- Advisor --------------------------------------------------------------------------------


class AdvisorClientFilter(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", max_length=100)
    risk_level = filters.NumberFilter()
    risk_inconsistent = filters.BooleanFilter()
    kyc_review_overdue = filters.BooleanFilter()

    class Meta:
        model = Client
        fields = ("kyc_review_overdue",)

    def filter_search(self, queryset: Any, name: str, value: str) -> Any:
        from django.db.models import Q

        return queryset.filter(
            Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(user__email__icontains=value)
        )


class AdvisorClientListApi(ListAPIView):
    permission_classes = (IsAdvisor,)
    serializer_class = s.AdvisorClientOutputSerializer
    filterset_class = AdvisorClientFilter
    ordering_fields = ("last_name", "created_at", "risk_level")

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Client.objects.none()
        return selectors.client_list_with_risk(cast(User, self.request.user))

    @extend_schema(tags=["advisor"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The advisor's book (admins: every client) with risk level and flags."""
        return super().get(request, *args, **kwargs)


class AdvisorClientDetailApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(tags=["advisor"], responses={200: s.AdvisorClientOutputSerializer, **ERRORS})
    def get(self, request: AuthedRequest, client_id: int) -> Response:
        client = selectors.client_get(user=request.user, client_id=client_id)
        return Response(s.AdvisorClientOutputSerializer(client).data)


class AdvisorClientGoalListApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(tags=["advisor"], responses={200: s.GoalOutputSerializer(many=True), **ERRORS})
    def get(self, request: AuthedRequest, client_id: int) -> Response:
        client = selectors.client_get(user=request.user, client_id=client_id)
        return Response(s.GoalOutputSerializer(selectors.goal_list(client=client), many=True).data)


class AdvisorClientRiskProfileApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["advisor"], responses={200: s.AdvisorRiskProfileOutputSerializer, **ERRORS}
    )
    def get(self, request: AuthedRequest, client_id: int) -> Response:
        """The client's risk profile with the advisor's explanation and the flags' own wording,
        and the client's explanation (what the client reads)."""
        client = selectors.client_get(user=request.user, client_id=client_id)
        profile = selectors.risk_profile_get(client=client)
        if profile is None:
            raise RiskProfileMissing("This client has not completed the risk questionnaire.")
        return Response(s.AdvisorRiskProfileOutputSerializer(profile).data)


class AdvisorClientQuestionnaireResponseListApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["advisor"],
        responses={200: s.AdvisorQuestionnaireResponseOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: AuthedRequest, client_id: int) -> Response:
        client = selectors.client_get(user=request.user, client_id=client_id)
        responses = selectors.questionnaire_response_list(client=client)[:50]
        return Response(s.AdvisorQuestionnaireResponseOutputSerializer(responses, many=True).data)


# --- Risk-level overrides (four-eyes above capacity) ---------------------------------------

DECISION_ERRORS = {
    403: OpenApiResponse(ApiErrorSerializer, description="Not allowed to decide this request."),
    409: OpenApiResponse(ApiErrorSerializer, description="Already decided, or out of date."),
    **ERRORS,
}


class AdvisorClientRiskOverrideApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["advisor"],
        request=s.RiskOverrideInputSerializer,
        responses={200: s.AdvisorRiskProfileOutputSerializer, 403: ApiErrorSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest, client_id: int) -> Response:
        """Override the client's risk level within 1..capacity, with a reason; open flags must
        be confirmed as gone through (`flags_reviewed`). Above capacity: a request instead."""
        client = selectors.client_get(user=request.user, client_id=client_id)
        payload = s.RiskOverrideInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.risk_level_override(client=client, actor=request.user, **payload.validated_data)
        profile = selectors.risk_profile_get(client=client)
        return Response(s.AdvisorRiskProfileOutputSerializer(profile).data)


class AdvisorClientRiskOverrideRequestApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["advisor"],
        request=s.RiskOverrideInputSerializer,
        responses={201: s.RiskOverrideRequestOutputSerializer, 403: ApiErrorSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest, client_id: int) -> Response:
        """Ask for a level above the client's capacity level: a second person with the
        compliance permission must approve it before it applies (four-eyes)."""
        client = selectors.client_get(user=request.user, client_id=client_id)
        payload = s.RiskOverrideInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        override_request = services.risk_override_request_create(
            client=client, actor=request.user, **payload.validated_data
        )
        return Response(
            s.RiskOverrideRequestOutputSerializer(override_request).data,
            status=status.HTTP_201_CREATED,
        )


class RiskOverrideRequestFilter(filters.FilterSet):
    client = filters.NumberFilter(field_name="response__client_id")

    class Meta:
        model = RiskOverrideRequest
        fields = ("status",)


class AdvisorRiskOverrideRequestListApi(ListAPIView):
    permission_classes = (IsAdvisor,)
    serializer_class = s.RiskOverrideRequestOutputSerializer
    filterset_class = RiskOverrideRequestFilter
    ordering_fields = ("requested_at",)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return RiskOverrideRequest.objects.none()
        return selectors.risk_override_requests_visible_to(cast(User, self.request.user))

    @extend_schema(tags=["advisor"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Requests to override above capacity: all of them for a compliance approver, an
        advisor's own book's otherwise; filter by `status` and `client`."""
        return super().get(request, *args, **kwargs)


class AdvisorRiskOverrideRequestApproveApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["advisor"],
        request=s.RiskOverrideDecisionInputSerializer,
        responses={200: s.RiskOverrideRequestOutputSerializer, **DECISION_ERRORS},
    )
    def post(self, request: AuthedRequest, request_id: int) -> Response:
        """Approve an override above capacity (compliance permission; not the requester)."""
        override_request = selectors.risk_override_request_get(
            user=request.user, request_id=request_id
        )
        payload = s.RiskOverrideDecisionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.risk_override_request_approve(
            override_request=override_request, actor=request.user, **payload.validated_data
        )
        override_request.refresh_from_db()
        return Response(s.RiskOverrideRequestOutputSerializer(override_request).data)


class AdvisorRiskOverrideRequestRejectApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["advisor"],
        request=s.RiskOverrideDecisionInputSerializer,
        responses={200: s.RiskOverrideRequestOutputSerializer, **DECISION_ERRORS},
    )
    def post(self, request: AuthedRequest, request_id: int) -> Response:
        """Reject an override above capacity (compliance permission); the level stays."""
        override_request = selectors.risk_override_request_get(
            user=request.user, request_id=request_id
        )
        payload = s.RiskOverrideDecisionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        override_request = services.risk_override_request_reject(
            override_request=override_request, actor=request.user, **payload.validated_data
        )
        return Response(s.RiskOverrideRequestOutputSerializer(override_request).data)
