"""Routes of the advisor app's API."""

from django.urls import path, register_converter

from . import notifications, views


class TokenKeyConverter:
    """A device token's public prefix: hex only, so nothing odd reaches the database."""

    regex = "[0-9a-f]{8,32}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TokenKeyConverter, "token_key")

urlpatterns = [
    path("auth/csrf/", views.CsrfApi.as_view(), name="auth-csrf"),
    path("auth/register/", views.RegisterApi.as_view(), name="auth-register"),
    path("auth/login/", views.LoginApi.as_view(), name="auth-login"),
    path("auth/logout/", views.LogoutApi.as_view(), name="auth-logout"),
    path("auth/me/", views.MeApi.as_view(), name="auth-me"),
    path("auth/token/", views.TokenCreateApi.as_view(), name="auth-token"),
    path("auth/token/revoke/", views.TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("auth/tokens/", views.TokenListApi.as_view(), name="auth-tokens"),
    path("auth/password/reset/", views.PasswordResetApi.as_view(), name="auth-password-reset"),
    path(
        "auth/password/reset/confirm/",
        views.PasswordResetConfirmApi.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("auth/password/change/", views.PasswordChangeApi.as_view(), name="auth-password-change"),
    path("auth/email/verify/", views.EmailVerifyApi.as_view(), name="auth-email-verify"),
    path(
        "auth/email/verify/resend/",
        views.EmailVerifyResendApi.as_view(),
        name="auth-email-verify-resend",
    ),
    path("auth/mfa/totp/", views.MfaTotpApi.as_view(), name="auth-mfa-totp"),
    path("auth/mfa/totp/confirm/", views.MfaTotpConfirmApi.as_view(), name="auth-mfa-totp-confirm"),
    path("auth/mfa/disable/", views.MfaDisableApi.as_view(), name="auth-mfa-disable"),
    path("auth/mfa/verify/", views.MfaVerifyApi.as_view(), name="auth-mfa-verify"),
    path(
        "auth/tokens/<token_key:token_key>/",
        views.TokenDetailApi.as_view(),
        name="auth-token-detail",
    ),
    path("notifications/", notifications.NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/unread-count/",
        notifications.NotificationUnreadCountApi.as_view(),
        name="notifications-unread-count",
    ),
    path(
        "notifications/read-all/",
        notifications.NotificationsReadAllApi.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/preferences/",
        notifications.NotificationPreferencesApi.as_view(),
        name="notification-preferences",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        notifications.NotificationReadApi.as_view(),
        name="notification-read",
    ),
    path("clients/me/", views.ClientMeApi.as_view(), name="client-me"),
    path("questionnaire/", views.QuestionnaireApi.as_view(), name="questionnaire"),
    path(
        "questionnaire/responses/",
        views.QuestionnaireResponseListApi.as_view(),
        name="questionnaire-responses",
    ),
    path("risk-profile/", views.RiskProfileApi.as_view(), name="risk-profile"),
    path("goals/", views.GoalListApi.as_view(), name="goals"),
    path("goals/<int:goal_id>/", views.GoalDetailApi.as_view(), name="goal-detail"),
    path("advisor/clients/", views.AdvisorClientListApi.as_view(), name="advisor-clients"),
    path(
        "advisor/clients/<int:client_id>/",
        views.AdvisorClientDetailApi.as_view(),
        name="advisor-client-detail",
    ),
    path(
        "advisor/clients/<int:client_id>/goals/",
        views.AdvisorClientGoalListApi.as_view(),
        name="advisor-client-goals",
    ),
    path(
        "advisor/clients/<int:client_id>/risk-profile/",
        views.AdvisorClientRiskProfileApi.as_view(),
        name="advisor-client-risk-profile",
    ),
    path(
        "advisor/clients/<int:client_id>/risk-override/",
        views.AdvisorClientRiskOverrideApi.as_view(),
        name="advisor-client-risk-override",
    ),
    path(
        "advisor/clients/<int:client_id>/risk-override-requests/",
        views.AdvisorClientRiskOverrideRequestApi.as_view(),
        name="advisor-client-risk-override-requests",
    ),
    path(
        "advisor/risk-override-requests/",
        views.AdvisorRiskOverrideRequestListApi.as_view(),
        name="advisor-risk-override-requests",
    ),
    path(
        "advisor/risk-override-requests/<int:request_id>/approve/",
        views.AdvisorRiskOverrideRequestApproveApi.as_view(),
        name="advisor-risk-override-request-approve",
    ),
    path(
        "advisor/risk-override-requests/<int:request_id>/reject/",
        views.AdvisorRiskOverrideRequestRejectApi.as_view(),
        name="advisor-risk-override-request-reject",
    ),
    path(
        "advisor/clients/<int:client_id>/questionnaire-responses/",
        views.AdvisorClientQuestionnaireResponseListApi.as_view(),
        name="advisor-client-questionnaire-responses",
    ),
]
