from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from placewise.api.api import api
from placewise.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", core_views.ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", core_views.audit_log, name="audit_log"),
    path("health/", core_views.health, name="health"),
    path("areas/", include("placewise.places.urls")),
    path("data/", include("placewise.incidents.urls")),
    path("screening/", include("placewise.screening.urls")),
    path("projects/", include("placewise.projects.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
