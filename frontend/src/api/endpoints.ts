// Typed calls to /api/v1/, one function per operation.
import { del, get, patch, post, request } from "./client";
import type {
  AccountRisk,
  AccountSummary,
  AppNotification,
  AppNotificationList,
  CashFlowInput,
  CashFlowResult,
  ChatConversation,
  ChatConversationList,
  ChatQuestion,
  ChatReply,
  ClientProfile,
  ClientUpdate,
  DeviceToken,
  FeesSummary,
  Goal,
  GoalAllocation,
  GoalFunding,
  GoalInput,
  GoalList,
  GoalPatch,
  HoldingsNews,
  Detail,
  LoginInput,
  LoginResult,
  NotificationKind,
  NotificationPreference,
  NotificationsReadAll,
  Performance,
  PortfolioSummary,
  Projection,
  ProjectionQuery,
  PasswordChangeInput,
  PasswordResetConfirmInput,
  QuestionnaireAnswers,
  QuestionnaireResponse,
  QuestionSet,
  RebalanceProposal,
  RecoveryCodes,
  RecurringDeposit,
  RecurringDepositInput,
  RecurringDepositPatch,
  Registered,
  RegisterInput,
  RiskProfile,
  StressCheck,
  TotpEnrolment,
  TransactionList,
  UnreadCount,
  User,
  WithdrawalHold,
  WithdrawalHoldStatus,
} from "./types";

export const auth = {
  me: (signal?: AbortSignal) => get<User>("auth/me/", { signal, anonymous: true }),
  /** The user, or `{mfa_required, mfa_token}`: then `mfaVerify` with a code finishes. */
  login: (email: string, password: string) =>
    post<LoginResult>("auth/login/", { email, password } satisfies LoginInput, { anonymous: true }),
  mfaVerify: (mfaToken: string, code: string) =>
    post<User>("auth/mfa/verify/", { mfa_token: mfaToken, code }, { anonymous: true }),
  /** The same answer whether or not the address has an account. */
  register: (body: RegisterInput) => post<Registered>("auth/register/", body, { anonymous: true }),
  passwordReset: (email: string) =>
    post<Detail>("auth/password/reset/", { email }, { anonymous: true }),
  passwordResetConfirm: (body: PasswordResetConfirmInput) =>
    post<Detail>("auth/password/reset/confirm/", body, { anonymous: true }),
  // anonymous: a 401 for a wrong password or code here must not end the session in the client.
  passwordChange: (body: PasswordChangeInput) =>
    post<Detail>("auth/password/change/", body, { anonymous: true }),
  emailVerify: (uid: string, token: string) =>
    post<Detail>("auth/email/verify/", { uid, token }, { anonymous: true }),
  emailVerifyResend: () => post<Detail>("auth/email/verify/resend/", undefined),
  mfaEnrol: () => post<TotpEnrolment>("auth/mfa/totp/", undefined),
  mfaConfirm: (code: string) =>
    post<RecoveryCodes>("auth/mfa/totp/confirm/", { code }, { anonymous: true }),
  mfaDisable: (code: string) => post<null>("auth/mfa/disable/", { code }, { anonymous: true }),
  logout: () => post<null>("auth/logout/", undefined, { anonymous: true }),
  tokens: (signal?: AbortSignal) => get<DeviceToken[]>("auth/tokens/", { signal }),
  revokeToken: (tokenKey: string) => del(`auth/tokens/${encodeURIComponent(tokenKey)}/`),
};

export const clients = {
  me: (signal?: AbortSignal) => get<ClientProfile>("clients/me/", { signal }),
  update: (body: ClientUpdate) => patch<ClientProfile>("clients/me/", body),
};

export const risk = {
  questionnaire: (signal?: AbortSignal) => get<QuestionSet>("questionnaire/", { signal }),
  submit: (version: string, answers: QuestionnaireAnswers["answers"]) =>
    post<QuestionnaireResponse>("questionnaire/responses/", {
      version,
      answers,
    } satisfies QuestionnaireAnswers),
  responses: (signal?: AbortSignal) =>
    get<QuestionnaireResponse[]>("questionnaire/responses/", { signal }),
  profile: (signal?: AbortSignal) => get<RiskProfile>("risk-profile/", { signal }),
  /** The worst stress scenario of the model portfolio at `level` (default: mine) beside my stated tolerance. */
  stressCheck: (level?: number, signal?: AbortSignal) =>
    get<StressCheck>("risk/stress-check/", { signal, query: { level } }),
};

export const goals = {
  list: (signal?: AbortSignal) =>
    get<GoalList>("goals/", { signal, query: { page_size: 100, ordering: "target_date" } }),
  get: (id: number, signal?: AbortSignal) => get<Goal>(`goals/${id}/`, { signal }),
  create: (body: GoalInput) => post<Goal>("goals/", body),
  update: (id: number, body: GoalPatch) => patch<Goal>(`goals/${id}/`, body),
  remove: (id: number) => del(`goals/${id}/`),
  /** The goal's account, its plan's figures and `scheduled_monthly` (active recurring deposits). */
  funding: (id: number, signal?: AbortSignal) => get<GoalFunding>(`goals/${id}/funding/`, { signal }),
  /** Each goal's level and the stock/bond split of the portfolio it is rebalanced to. */
  allocations: (signal?: AbortSignal) => get<GoalAllocation[]>("goals/allocations/", { signal }),
  /** 200 ready/failed, or 202 pending: call again shortly. */
  projection: async (
    id: number,
    whatIf: ProjectionQuery = {},
    signal?: AbortSignal,
  ) => (await request<Projection>(`goals/${id}/projection/`, { query: whatIf, signal })).data,
};

export const portfolio = {
  summary: (signal?: AbortSignal) => get<PortfolioSummary>("portfolio/summary/", { signal }),
  accounts: (signal?: AbortSignal) => get<AccountSummary[]>("accounts/", { signal }),
  performance: (accountId: number, signal?: AbortSignal) =>
    get<Performance>(`accounts/${accountId}/performance/`, { signal }),
  rebalances: (accountId: number, signal?: AbortSignal) =>
    get<RebalanceProposal[]>(`accounts/${accountId}/rebalances/`, { signal }),
  transactions: (accountId: number, page = 1, signal?: AbortSignal) =>
    get<TransactionList>(`accounts/${accountId}/transactions/`, {
      signal,
      query: { page },
    }),
  deposit: (accountId: number, amount: string, idempotencyKey: string) =>
    post<CashFlowResult>(`accounts/${accountId}/deposits/`, { amount } satisfies CashFlowInput, {
      idempotencyKey,
    }),
  /** 201 done, or 202 held for review: then `transaction` is null and `hold` is the hold's id. */
  withdraw: (accountId: number, amount: string, idempotencyKey: string) =>
    post<CashFlowResult>(`accounts/${accountId}/withdrawals/`, { amount } satisfies CashFlowInput, {
      idempotencyKey,
    }),
  /** My held withdrawals, newest first; `status: "pending"` for those still waiting for an advisor. */
  withdrawalHolds: (status?: WithdrawalHoldStatus, signal?: AbortSignal) =>
    get<WithdrawalHold[]>("withdrawal-holds/", { signal, query: { status } }),
  /** The account's risk figures and stress scenarios; 409 while it holds nothing. */
  risk: (accountId: number, signal?: AbortSignal) => get<AccountRisk>(`accounts/${accountId}/risk/`, { signal }),
  /** Advisory fees, in total and per account: the schedule, paid and estimated. */
  fees: (signal?: AbortSignal) => get<FeesSummary>("fees/", { signal }),
  recurring: (accountId: number, signal?: AbortSignal) =>
    get<RecurringDeposit[]>(`accounts/${accountId}/recurring-deposits/`, { signal }),
  recurringCreate: (accountId: number, body: RecurringDepositInput, idempotencyKey: string) =>
    post<RecurringDeposit>(`accounts/${accountId}/recurring-deposits/`, body, { idempotencyKey }),
  recurringSetActive: (accountId: number, id: number, active: boolean) =>
    patch<RecurringDeposit>(`accounts/${accountId}/recurring-deposits/${id}/`, {
      active,
    } satisfies RecurringDepositPatch),
  recurringCancel: (accountId: number, id: number) =>
    del(`accounts/${accountId}/recurring-deposits/${id}/`),
};

export const news = {
  holdings: (signal?: AbortSignal) => get<HoldingsNews>("news/holdings/", { signal }),
};

export const chat = {
  send: (conversation: number | null, text: string) =>
    post<ChatReply>("chat/messages/", { conversation, text } satisfies ChatQuestion),
  conversations: (signal?: AbortSignal) =>
    get<ChatConversationList>("chat/conversations/", { signal }),
  conversation: (id: number, signal?: AbortSignal) =>
    get<ChatConversation>(`chat/conversations/${id}/`, { signal }),
};

export const notifications = {
  /** Newest first, with the unread count (the bell's badge). */
  list: (page = 1, signal?: AbortSignal) =>
    get<AppNotificationList>("notifications/", { signal, query: { page } }),
  unreadCount: (signal?: AbortSignal) => get<UnreadCount>("notifications/unread-count/", { signal }),
  markRead: (id: number) => post<AppNotification>(`notifications/${id}/read/`),
  markAllRead: () => post<NotificationsReadAll>("notifications/read-all/"),
  preferences: (signal?: AbortSignal) =>
    get<NotificationPreference[]>("notifications/preferences/", { signal }),
  setEmail: (kind: NotificationKind, email: boolean) =>
    patch<NotificationPreference[]>("notifications/preferences/", { kind, email }),
};
