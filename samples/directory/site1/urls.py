"""URL map of site1. Paths are relative to the app: the host strips /apps/directory
into SCRIPT_NAME, and reverse()/{% url %} put it back."""
from django.urls import include, path

from people import views

urlpatterns = [
    path("health", views.health, name="health"),
    path("", include("people.urls")),
]
