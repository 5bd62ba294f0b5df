from django.urls import path

from . import views

urlpatterns = [
    path("news/holdings/", views.HoldingsNewsApi.as_view(), name="news-holdings"),
    path(
        "advisor/news-alerts/", views.AdvisorNewsAlertListApi.as_view(), name="advisor-news-alerts"
    ),
]
