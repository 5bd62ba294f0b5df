// Shapes of /api/v1/: the names the pages use for the types `make api-types` generates from the
// OpenAPI schema (schema.d.ts). To change a shape, change the serializer and regenerate. Money and
// weights arrive as decimal strings (format: decimal) and stay strings: only charts turn them
// into numbers. Dates and times are ISO strings (format: date, date-time).
import type { components, operations } from "./schema";

type Schemas = components["schemas"];

// --- People --------------------------------------------------------------------------------
export type User = Schemas["UserOutput"];
export type DeviceToken = Schemas["DeviceTokenOutput"];
export type ClientProfile = Schemas["ClientOutput"];
/** What PATCH clients/me/ accepts; tax_id is write-only. */
export type ClientUpdate = Schemas["PatchedClientUpdateInputRequest"];
export type RegisterInput = Schemas["RegisterInputRequest"];
export type LoginInput = Schemas["LoginInputRequest"];
/** The password step: the user (logged in), or a second step for a code when MFA is on. */
export type LoginResult = Schemas["LoginResult"];
export type MfaChallenge = Schemas["MfaChallengeOutput"];
export type Registered = Schemas["RegisteredOutput"];
export type Detail = Schemas["DetailOutput"];
export type PasswordResetConfirmInput = Schemas["PasswordResetConfirmInputRequest"];
export type PasswordChangeInput = Schemas["PasswordChangeInputRequest"];
export type TotpEnrolment = Schemas["TotpEnrolmentOutput"];
export type RecoveryCodes = Schemas["RecoveryCodesOutput"];

// --- Risk ----------------------------------------------------------------------------------
export type QuestionSet = Schemas["QuestionSetOutput"];
export type Question = Schemas["QuestionOutput"];
export type RiskFlag = Schemas["FlagOutput"];
export type RiskAssessment = Schemas["RiskAssessmentOutput"];
export type QuestionnaireResponse = Schemas["QuestionnaireResponseOutput"];
export type QuestionnaireAnswers = Schemas["QuestionnaireResponseInputRequest"];
export type ModelOpinion = Schemas["ModelOpinionEnum"];
export type RiskProfile = Schemas["RiskProfileOutput"];
/** The suitability policy's decision record behind the level: who set it, when and why. */
export type RiskDecision = Schemas["DecisionOutput"];
/** A goal's level (the client's, adjusted for the goal) and its stock/bond split. */
export type GoalAllocation = Schemas["GoalAllocationOutput"];

// --- Goals ---------------------------------------------------------------------------------
export type GoalType = Schemas["GoalTypeEnum"];
export type GoalPriority = Schemas["PriorityEnum"];
export type GoalStatus = Schemas["GoalStatusEnum"];
export type Goal = Schemas["GoalOutput"];
export type GoalInput = Schemas["GoalInputRequest"];
export type GoalPatch = Schemas["PatchedGoalInputRequest"];
export type GoalList = Schemas["PaginatedGoalOutputList"];
export type Projection = Schemas["ProjectionOutput"];
/** GET goals/{id}/funding/: the goal's account, its plan, and what is scheduled each month. */
export type GoalFunding = Schemas["GoalFundingOutput"];
/** The what-if query of GET goals/{id}/projection/. */
export type ProjectionQuery = NonNullable<operations["goals_projection_retrieve"]["parameters"]["query"]>;

// --- Portfolio -----------------------------------------------------------------------------
export type Holding = Schemas["HoldingOutput"];
export type AccountSummary = Schemas["AccountSummaryOutput"];
export type PeriodReturn = Schemas["PeriodReturnOutput"];
export type GoalSummary = Schemas["GoalSummaryOutput"];
export type PortfolioSummary = Schemas["PortfolioSummaryOutput"];
export type DailyValue = Schemas["DailyValueOutput"];
export type Performance = Schemas["PerformanceOutput"];
export type PolicyComposition = Schemas["PolicyCompositionOutput"];
export type RebalanceTrade = Schemas["RebalanceTradeOutput"];
export type RebalanceProposal = Schemas["RebalanceOutput"];
export type LedgerEntry = Schemas["EntryOutput"];
export type Transaction = Schemas["TransactionOutput"];
export type TransactionList = Schemas["PaginatedTransactionOutputList"];
export type CashFlowInput = Schemas["CashFlowInputRequest"];
export type CashFlowResult = Schemas["CashFlowOutput"];
export type RecurringDeposit = Schemas["RecurringDepositOutput"];
export type RecurringDepositInput = Schemas["RecurringDepositInputRequest"];
export type RecurringDepositPatch = Schemas["PatchedRecurringDepositPatchInputRequest"];
/** GET fees/: the advisory fee schedule and what each account has paid and will pay. */
export type FeesSummary = Schemas["FeesSummaryOutput"];
export type FeeSchedule = Schemas["FeeScheduleOutput"];
export type AccountFees = Schemas["AccountFeesOutput"];
/** A withdrawal the risk rules held for an advisor (a 202 to POST withdrawals/), as the client sees it. */
export type WithdrawalHold = Schemas["WithdrawalHoldOutput"];
export type WithdrawalHoldStatus = Schemas["WithdrawalHoldStatusEnum"];

// --- Portfolio risk --------------------------------------------------------------------------
/** GET accounts/{id}/risk/: volatility, VaR/ES, drawdown and beta, the stress scenarios, in words. */
export type AccountRisk = Schemas["AccountRiskOutput"];
export type RiskMeasures = Schemas["RiskMeasuresOutput"];
export type RiskHorizon = Schemas["HorizonOutput"];
/** One stress scenario: a replayed historical window (with its `path`) or a hypothetical shock. */
export type RiskScenario = Schemas["ScenarioOutput"];
/** GET risk/stress-check/: the worst scenario at a level beside the loss the client said they could bear. */
export type StressCheck = Schemas["StressCheckOutput"];

// --- News ----------------------------------------------------------------------------------
export type Headline = Schemas["HeadlineOutput"];
export type AssetSentiment = Schemas["AssetSentimentOutput"];
export type HoldingsNews = Schemas["HoldingsNewsOutput"];

// --- Chat ----------------------------------------------------------------------------------
export type ChatQuestion = Schemas["ChatQuestionInputRequest"];
export type ChatSource = Schemas["ChatSourceOutput"];
export type ChatEscalation = Schemas["EscalationOutput"];
export type ChatReply = Schemas["ChatReplyOutput"];
export type ChatConversationSummary = Schemas["ConversationOutput"];
export type ChatConversationList = Schemas["PaginatedConversationOutputList"];
export type ChatMessage = Schemas["ChatMessageOutput"];
export type ChatConversation = Schemas["ConversationDetailOutput"];

// Notifications (the bell and Settings).
export type AppNotification = Schemas["NotificationOutput"];
export type AppNotificationList = Schemas["PaginatedNotificationOutputList"];
export type NotificationKind = Schemas["NotificationKindEnum"];
export type NotificationPreference = Schemas["NotificationPreferenceOutput"];
export type NotificationsReadAll = Schemas["NotificationsReadAllOutput"];
export type UnreadCount = Schemas["UnreadCountOutput"];
