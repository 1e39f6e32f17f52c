from django.urls import path

from . import views

app_name = "places"
urlpatterns = [
    path("", views.area_list, name="area_list"),
    path("define/", views.define_area, name="define_area"),
    path("map.geojson", views.map_geojson, name="map_geojson"),
    path("<int:area_id>/", views.area_detail, name="area_detail"),
]
