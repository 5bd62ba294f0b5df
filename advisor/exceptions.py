"""Errors the advisor services raise; each renders in the API's one error shape."""

from rest_framework import status

from config.errors import ApplicationError


class AuthenticationFailed(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "authentication_failed"


class AccountLockedOut(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


class QuestionnaireInvalid(ApplicationError):
    default_code = "questionnaire_invalid"


class RiskProfileMissing(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "risk_profile_missing"


class RiskOverrideConflict(ApplicationError):
    """A risk-override request that can no longer be decided: already decided, or the client
    has answered the questionnaire again since it was made."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "override_request_conflict"


class GoalNotEmpty(ApplicationError):
    """A goal whose account still holds money cannot be closed or deleted: the money has to go
    somewhere first (a withdrawal), and the client says where."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "goal_not_empty"


class IdentityLinkInvalid(ApplicationError):
    """A password-reset or verification link that is forged, expired or already used."""

    default_code = "link_invalid"


class MfaCodeInvalid(ApplicationError):
    """A wrong, reused or throttled authenticator or recovery code."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "mfa_code_invalid"


class MfaLoginExpired(ApplicationError):
    """The second login step came too late (or with a forged mfa_token): log in again."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "mfa_token_invalid"


class MfaStateConflict(ApplicationError):
    """Enrolling twice, confirming with nothing to confirm, disabling what is not on."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "mfa_state_conflict"
