"""Model monitoring in the admin: every daily report (filter by status to see alerts) and a
monitoring page per model version (its latest report's tables and its history).

Imported at the end of nlp/admin.py. Reads stored reports only: no torch, no computation."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from .models import ModelMonitorReport, ModelVersion

HISTORY = 90  # reports shown on a version's page, newest first

_PAGE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block content %}
<div id="model-monitoring">
<p>Thresholds: population stability index below 0.1 ok, 0.1&ndash;0.25 watch, above 0.25
alert (Siddiqi, <em>Credit Risk Scorecards</em>, 2006). Weeks or populations with fewer than
the minimum count of rows are marked too_few and raise nothing.</p>
{% if not latest %}<p>No report yet: the daily monitoring run has not covered this version.</p>
{% else %}
<h2>Latest report: {{ latest.day }} &mdash; <span class="status-{{ latest.status }}">
{{ latest.get_status_display }}</span></h2>
<p>Data from {{ latest.period_start }} to {{ latest.period_end }}, computed
{{ latest.computed_at }}.</p>
{% if m.features %}
<p>{{ m.live_clients }} live clients ({{ m.skipped_clients }} skipped for an incomplete profile)
against {{ m.reference_rows }} training rows.</p>
<table id="feature-drift"><thead><tr><th>Feature</th><th>PSI</th><th>Status</th>
<th>Bins: training share &rarr; live share</th></tr></thead><tbody>
{% for f in features %}<tr><td>{{ f.feature }}</td><td>{{ f.psi|floatformat:4 }}</td>
<td>{{ f.status }}</td><td>{% for b in f.rows %}{{ b.0 }}: {{ b.1|floatformat:3 }} &rarr;
{{ b.2|floatformat:3 }}{% if not forloop.last %}; {% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody></table>
{% endif %}
{% if m.expected %}
<p>Test-set label shares: {% for k, v in m.expected.items %}{{ k }} {{ v|floatformat:3 }}
{% endfor %}</p>
<table id="label-drift"><thead><tr><th>Week</th><th>Scores</th><th>Negative</th>
<th>Neutral</th><th>Positive</th><th>PSI</th><th>Status</th></tr></thead><tbody>
{% for w in m.weeks %}<tr><td>{{ w.week }}</td><td>{{ w.count }}</td>
<td>{{ w.shares.negative|floatformat:3 }}</td><td>{{ w.shares.neutral|floatformat:3 }}</td>
<td>{{ w.shares.positive|floatformat:3 }}</td><td>{{ w.psi|floatformat:4 }}</td>
<td>{{ w.status }}</td></tr>{% endfor %}</tbody></table>
{% endif %}
{% if m.unsure_limits %}
<p>Unsure below confidence {{ m.confidence_threshold }}; unsure share watch/alert
{{ m.unsure_limits.0 }}/{{ m.unsure_limits.1 }}; escalation share watch/alert
{{ m.escalation_limits.0 }}/{{ m.escalation_limits.1 }}.</p>
<table id="chat-drift"><thead><tr><th>Week</th><th>Replies</th><th>Mean confidence</th>
<th>Unsure share</th><th>Conversations</th><th>Escalation share</th><th>Status</th></tr>
</thead><tbody>
{% for w in m.weeks %}<tr><td>{{ w.week }}</td><td>{{ w.count }}</td>
<td>{{ w.mean_confidence|floatformat:3 }}</td><td>{{ w.unsure_share|floatformat:3 }}</td>
<td>{{ w.conversations }}</td><td>{{ w.escalation_share|floatformat:3 }}</td>
<td>{{ w.status }}</td></tr>{% endfor %}</tbody></table>
{% endif %}
{% endif %}
<h2>History</h2>
<table id="monitoring-history"><thead><tr><th>Day</th><th>Status</th><th>Period</th></tr>
</thead><tbody>{% for r in history %}<tr><td>{{ r.day }}</td><td>{{ r.status }}</td>
<td>{{ r.period_start }} &ndash; {{ r.period_end }}</td></tr>
{% empty %}<tr><td colspan="3">None yet.</td></tr>{% endfor %}</tbody></table>
</div>
{% endblock %}"""
)


@admin.register(ModelMonitorReport)
class ModelMonitorReportAdmin(admin.ModelAdmin):
    list_display = ("model_version", "day", "status", "period_start", "period_end", "page")
    list_filter = ("status", "model_version__name", "day")
    list_select_related = ("model_version",)
    readonly_fields = (
        "model_version",
        "day",
        "status",
        "period_start",
        "period_end",
        "computed_at",
        "metrics",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the daily run (nlp.monitoring.model_monitoring_run)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Monitoring page")
    def page(self, report: ModelMonitorReport) -> str:
        url = reverse("admin:nlp_modelmonitorreport_version", args=[report.model_version_id])
        return format_html('<a href="{}">{}</a>', url, report.model_version.label)

    def get_urls(self) -> list[URLPattern]:
        page = path(
            "version/<int:version_id>/",
            self.admin_site.admin_view(self.version_view),
            name="nlp_modelmonitorreport_version",
        )
        return [page, *super().get_urls()]

    def version_view(self, request: HttpRequest, version_id: int) -> HttpResponse:
        """A model version's monitoring page: its latest report's tables and its history."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(ModelVersion, pk=version_id)
        history = list(version.monitor_reports.all()[:HISTORY])
        latest = history[0] if history else None
        metrics = latest.metrics if latest else {}
        features = [
            {
                **f,
                "rows": list(zip(f["bins"], f["expected"], f["actual"], strict=True)),
            }
            for f in metrics.get("features", [])
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Monitoring of {version.label}",
            "version": version,
            "latest": latest,
            "m": metrics,
            "features": features,
            "history": history,
        }
        return HttpResponse(_PAGE.render(context, request))
