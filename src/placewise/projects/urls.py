from django.urls import path

from . import area_assets, editing, pictures, records, views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_new, name="new"),
    path("areas/<int:area_id>/assets/", area_assets.area_assets, name="area_assets"),
    path("<int:project_id>/", views.project_detail, name="detail"),
    path("<int:project_id>/steps/<int:number>/", views.step_edit, name="step"),
    path("<int:project_id>/submit/", views.submit_for_review, name="submit"),
    path("<int:project_id>/review/", views.review, name="review"),
    path("<int:project_id>/history/", views.history, name="history"),
    path("<int:project_id>/network/", records.network, name="network"),
    path("<int:project_id>/report/", views.report, name="report"),
    path("<int:project_id>/report.pdf", views.report_pdf, name="report_pdf"),
    path("<int:project_id>/pictures/", pictures.rich_pictures, name="pictures"),
    path("<int:project_id>/meetings/", pictures.meetings, name="meetings"),
    path("<int:project_id>/steps/<int:number>/attach/", pictures.attach, name="attach"),
    path(
        "<int:project_id>/attachments/<int:attachment_id>/",
        pictures.attachment_download,
        name="attachment",
    ),
    path("<int:project_id>/assets/", records.asset_add, name="asset_add"),
    path("<int:project_id>/assets.csv", records.assets_csv, name="assets_csv"),
    path("<int:project_id>/assets.geojson", records.assets_geojson, name="assets_geojson"),
    path("<int:project_id>/stakeholders/", records.stakeholder_add, name="stakeholder_add"),
    path("<int:project_id>/relationships/", records.relationship_add, name="relationship_add"),
    path("<int:project_id>/actions/", views.action_add, name="action_add"),
    path("<int:project_id>/actions/<int:action_id>/", views.action_update, name="action_update"),
    path("<int:project_id>/escalations/", views.escalation_add, name="escalation_add"),
    path(
        "<int:project_id>/records/<slug:kind>/<int:record_id>/",
        editing.record_edit,
        name="record_edit",
    ),
    path(
        "<int:project_id>/records/<slug:kind>/<int:record_id>/remove/",
        editing.record_remove,
        name="record_remove",
    ),
    path(
        "<int:project_id>/escalations/<int:escalation_id>/resolve/",
        views.escalation_resolve,
        name="escalation_resolve",
    ),
]
