from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.screening_page, name="screen"),
    path("backtest/", views.backtest_page, name="backtest"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:screening_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:screening_id>.csv", views.run_csv, name="run_csv"),
    path("runs/<int:screening_id>.geojson", views.run_geojson, name="run_geojson"),
    path("runs/<int:screening_id>/brief/<str:code>/", views.brief, name="brief"),
]
