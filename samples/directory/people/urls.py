from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("", views.index, name="index"),
    path("api/ping", views.ping, name="api-ping"),
    path("api/people", views.people_json, name="api-people"),
]
