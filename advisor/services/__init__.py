"""Writes of the advisor floor, one module per subdomain: auth, clients (KYC and advisors), the
risk questionnaire, risk-level overrides, goals.

The public services are re-exported here, so callers say `services.goal_create(...)`; reads
live in `advisor.selectors`, the suitability rule in `advisor.suitability`."""

from .auth import (
    device_token_create,
    device_token_issue,
    device_token_revoke,
    device_token_revoke_all,
    device_tokens_purge_expired,
    session_login,
    session_logout,
    user_register,
)
from .clients import (
    ADVISOR_GROUP,
    ADVISOR_PERMISSIONS,
    CLIENT_EDITABLE_FIELDS,
    KYC_REQUIRED_FIELDS,
    advisor_create,
    advisor_group_ensure,
    client_assign_advisor,
    client_update,
    kyc_reviews_flag_due,
)
from .goals import GOAL_EDITABLE_FIELDS, goal_create, goal_delete, goal_update
from .identity import (
    email_verification_send,
    email_verify,
    identity_email_send,
    known_device_record,
    password_change,
    password_reset_confirm,
    password_reset_request,
    user_sessions_end,
)
from .mfa import (
    MfaChallenge,
    MfaLoginResult,
    TotpEnrolment,
    mfa_code_match,
    mfa_disable,
    mfa_enabled,
    mfa_login_verify,
    mfa_totp_confirm,
    mfa_totp_enrol,
)
from .overrides import (
    OVERRIDE_REASON_MAX_LENGTH,
    risk_level_override,
    risk_override_request_approve,
    risk_override_request_create,
    risk_override_request_reject,
)
from .questionnaire import (
    SecondOpinion,
    model_opinion_mark,
    questionnaire_submit,
    risk_assessment_record,
    risk_model_opinion_record,
)

__all__ = [
    "ADVISOR_GROUP",
    "ADVISOR_PERMISSIONS",
    "CLIENT_EDITABLE_FIELDS",
    "GOAL_EDITABLE_FIELDS",
    "KYC_REQUIRED_FIELDS",
    "OVERRIDE_REASON_MAX_LENGTH",
    "MfaChallenge",
    "MfaLoginResult",
    "SecondOpinion",
    "TotpEnrolment",
    "advisor_create",
    "advisor_group_ensure",
    "client_assign_advisor",
    "client_update",
    "device_token_create",
    "device_token_issue",
    "device_token_revoke",
    "device_token_revoke_all",
    "device_tokens_purge_expired",
    "email_verification_send",
    "email_verify",
    "goal_create",
    "goal_delete",
    "goal_update",
    "identity_email_send",
    "known_device_record",
    "kyc_reviews_flag_due",
    "mfa_code_match",
    "mfa_disable",
    "mfa_enabled",
    "mfa_login_verify",
    "mfa_totp_confirm",
    "mfa_totp_enrol",
    "model_opinion_mark",
    "password_change",
    "password_reset_confirm",
    "password_reset_request",
    "questionnaire_submit",
    "risk_assessment_record",
    "risk_level_override",
    "risk_model_opinion_record",
    "risk_override_request_approve",
    "risk_override_request_create",
    "risk_override_request_reject",
    "session_login",
    "session_logout",
    "user_register",
    "user_sessions_end",
]
