def test_session_data_loaded(db):
    from placewise.incidents.models import Incident
    from placewise.places.models import Area

    assert Area.objects.filter(kind="lsoa").count() == 740
    assert Incident.objects.count() > 10000
