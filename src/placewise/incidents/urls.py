from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.status_page, name="status"),
    path("import/", views.import_upload, name="import_upload"),
    path("import/<int:run_id>/", views.import_detail, name="import_detail"),
    path("import/<int:run_id>/rejected.csv", views.import_rejections_csv, name="import_rejections"),
    path("harm/", views.harm_weights, name="harm_weights"),
]
