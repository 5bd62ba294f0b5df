"""Model approval and news upload in the advisor workspace."""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from advisor.models import User
from advisor.selectors import clients_in_reach
from config.admin_actions import LifecycleAdmin, decide_each

from . import news, registry, services
from .chat import services as chat_services
from .exceptions import NewsFileInvalid
from .models import Conversation, Escalation, Message, ModelVersion, NewsItem, SentimentScore


@admin.register(ModelVersion)
class ModelVersionAdmin(LifecycleAdmin):
    list_display = (
        "name",
        "version",
        "status",
        "quick",
        "created_at",
        "first_approved_by",
        "decided_by",
    )
    list_filter = ("name", "status")
    readonly_fields = (
        "name",
        "version",
        "status",
        "weights_path",
        "weights_sha256",
        "data_hash",
        "metrics",
        "quick",
        "first_approved_by",
        "first_approved_at",
        "decided_by",
        "decided_at",
    )
    exclude = ("card",)  # rendered as the card by the template, never edited
    approved_outcome = "approved: workers serve it from their next task"
    rejected_outcome = "retired"
    # The model card beside the committee's Approve / Reject buttons (decide_view).
    change_form_template = "admin/nlp/modelversion/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from `manage.py train_models`

    def lifecycle_decide(self, row: Any, *, approve: bool, actor: Any) -> object:
        return services.version_decide(model_version=row, approve=approve, actor=actor)

    def get_urls(self) -> list[URLPattern]:
        decide = path(
            "<path:object_id>/decide/",
            self.admin_site.admin_view(self.decide_view),  # login and CSRF checked
            name="nlp_modelversion_decide",
        )
        return [decide, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        version = self.get_object(request, unquote(object_id))
        context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        if version is not None:
            context["model_card"] = registry.card_of(version)
            if version.status == ModelVersion.Status.CANDIDATE and request.user.has_perm(
                "nlp.approve_modelversion"
            ):
                context["version_decide_url"] = reverse(
                    "admin:nlp_modelversion_decide", args=[version.pk]
                )
        return super().change_view(request, object_id, form_url, context)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST `decision=approve|reject` from the version's page, beside its card: the same
        decision as the list actions (committee permission and four eyes, in the service)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("nlp.approve_modelversion"):
            raise PermissionDenied
        version = self.get_object(request, unquote(object_id))
        if version is None:
            raise Http404("No such model version.")
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            return HttpResponseBadRequest("decision must be approve or reject")
        self._decide(
            request, ModelVersion.objects.filter(pk=version.pk), approve=decision == "approve"
        )
        return HttpResponseRedirect(reverse("admin:nlp_modelversion_change", args=[version.pk]))


class NewsUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV or JSON, in the format of nlp/data/news/demo_news.csv")


class SentimentInline(admin.TabularInline):
    model = SentimentScore
    extra = 0
    can_delete = False
    readonly_fields = ("model_version", "label", "negative", "neutral", "positive", "scored_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NewsItem)
class NewsItemAdmin(admin.ModelAdmin):
    list_display = ("headline", "source", "published_at")
    search_fields = ("headline",)
    list_filter = ("source",)
    inlines = (SentimentInline,)
    change_list_template = "admin/nlp/newsitem/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        upload = path(
            "upload/", self.admin_site.admin_view(self.upload_view), name="nlp_newsitem_upload"
        )
        return [upload, *super().get_urls()]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """Import a CSV/JSON news file; every row is checked before anything is written."""
        form = NewsUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                created, skipped = news.news_import(news.news_read(upload.name, upload.read()))
            except NewsFileInvalid as exc:
                for error in exc.errors[:20]:
                    self.message_user(request, error, messages.ERROR)
            else:
                from .tasks import sentiment_score_pending_task

                sentiment_score_pending_task.delay()
                self.message_user(request, f"{created} items imported, {skipped} already there.")
                return HttpResponseRedirect(reverse("admin:nlp_newsitem_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Upload news"}
        return TemplateResponse(request, "admin/nlp/newsitem/upload.html", context)


# --- Chat: conversations and escalations, scoped to the advisor's book ---------------------------


class _BookScoped(admin.ModelAdmin):
    """The advisor's book and the firm queue of unassigned clients (advisor.selectors.
    clients_in_reach; admins: everyone), as the workspace home and its queue show them."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(client__in=clients_in_reach(cast(User, request.user)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # every turn is kept


class MessageInline(admin.TabularInline):
    model = Message
    fk_name = "conversation"
    fields = ("created_at", "role", "text", "intent", "confidence", "sources", "fallback")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(_BookScoped):
    list_display = ("id", "client", "created_at", "updated_at")
    readonly_fields = ("client", "created_at", "updated_at")
    inlines = (MessageInline,)
    search_fields = ("client__first_name", "client__last_name", "client__user__email")


@admin.register(Escalation)
class EscalationAdmin(_BookScoped):
    list_display = ("id", "client", "reason", "status", "created_at", "advisor", "resolved_by")
    list_filter = ("status", "reason")
    fields = (
        "client",
        "advisor",
        "reason",
        "status",
        "conversation_transcript",
        "resolution",
        "resolved_by",
        "resolved_at",
        "created_at",
    )
    readonly_fields = (
        "client",
        "advisor",
        "reason",
        "status",
        "conversation_transcript",
        "resolved_by",
        "resolved_at",
        "created_at",
    )
    actions = ("resolve",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # An unassigned client's escalation is every advisor's to pick up (_BookScoped).
        return super().get_queryset(request).select_related("client")

    @admin.display(description="Conversation")
    def conversation_transcript(self, escalation: Escalation) -> str:
        from django.utils.html import format_html_join

        return format_html_join(
            "",
            "<p><strong>{}</strong> ({}): {}</p>",
            (
                (m.get_role_display(), m.created_at.strftime("%Y-%m-%d %H:%M"), m.text)
                for m in escalation.conversation.messages.all()
            ),
        )

    def save_model(self, request: HttpRequest, obj: Escalation, form: Any, change: bool) -> None:
        """Saving with a resolution note resolves it (audited, with who and when)."""
        if obj.resolution and obj.status == Escalation.Status.OPEN:
            chat_services.escalation_resolve(
                escalation=obj, actor=cast(User, request.user), resolution=obj.resolution
            )
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description="Resolve the selected escalations")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        decide_each(
            self,
            request,
            queryset,
            lambda e: chat_services.escalation_resolve(
                escalation=e, actor=cast(User, request.user)
            ),
            "resolved",
        )


from . import admin_monitoring  # noqa: E402, F401  (model monitoring pages)
