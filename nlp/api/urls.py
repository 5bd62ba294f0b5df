"""Routes of the nlp app's API."""

from django.urls import path

from . import views

urlpatterns = [
    path("models/", views.ModelVersionListApi.as_view(), name="models"),
    path("news/holdings/", views.HoldingsNewsApi.as_view(), name="news-holdings"),
    path("chat/messages/", views.ChatMessageApi.as_view(), name="chat-messages"),
    path("chat/conversations/", views.ConversationListApi.as_view(), name="chat-conversations"),
    path(
        "chat/conversations/<int:conversation_id>/",
        views.ConversationDetailApi.as_view(),
        name="chat-conversation-detail",
    ),
    path("chat/escalations/", views.EscalationListApi.as_view(), name="chat-escalations"),
    path(
        "advisor/news-alerts/", views.AdvisorNewsAlertListApi.as_view(), name="advisor-news-alerts"
    ),
]
