"""Open311 input parsing and the JSON/XML renderer, tested without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from webapp.domain.errors import DomainError
from webapp.open311 import params
from webapp.open311.render import to_xml

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2010-04-14T06:37:38-08:00", datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC)),
        ("2010-04-14T06:37:38Z", datetime(2010, 4, 14, 6, 37, 38, tzinfo=UTC)),
        ("2010-04-14T06:37:38+02:00", datetime(2010, 4, 14, 4, 37, 38, tzinfo=UTC)),
        ("2010-04-14T06:37:38 02:00", datetime(2010, 4, 14, 4, 37, 38, tzinfo=UTC)),
        ("2010-04-14T06:37-05:00", datetime(2010, 4, 14, 11, 37, tzinfo=UTC)),
        ("2010-04-14", datetime(2010, 4, 14, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_w3c_datetimes_are_read_as_utc(raw, expected):
    assert params.w3c_datetime(raw, "start_date") == expected


@pytest.mark.parametrize(
    "raw", ["yesterday", "2010-04-14T06:37:38", "2010-13-01T00:00:00Z", "14/04/2010"]
)
def test_bad_or_zoneless_datetimes_are_400(raw):
    with pytest.raises(DomainError) as caught:
        params.w3c_datetime(raw, "start_date")
    assert caught.value.status == 400
    assert caught.value.field == "start_date"


def test_comma_lists_drop_blanks_and_repeats():
    assert params.comma_list(" a, b,,a ,c ") == ["a", "b", "c"]
    assert params.comma_list(None) == []


def test_default_window_is_the_last_90_days_capped_at_1000():
    query = params.request_query({}, NOW)
    assert query.start == NOW - timedelta(days=90)
    assert query.end is None
    assert query.page_size == 1000 and query.page == 1
    assert query.extensions is False


def test_one_date_opens_a_90_day_window_from_or_to_it():
    start = params.request_query({"start_date": "2024-01-01"}, NOW)
    assert (start.start, start.end) == (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 3, 31, tzinfo=UTC),
    )
    end = params.request_query({"end_date": "2024-03-31"}, NOW)
    assert end.start == datetime(2024, 1, 1, tzinfo=UTC)


def test_updated_filters_replace_the_default_window():
    query = params.request_query({"updated_after": "2020-01-01T00:00:00Z"}, NOW)
    assert query.start is None and query.end is None
    assert query.updated_after == datetime(2020, 1, 1, tzinfo=UTC)


def test_ids_override_every_other_parameter():
    query = params.request_query(
        {"service_request_id": "311-000001,311-000002", "status": "bogus", "page": "x"}, NOW
    )
    assert query.ids == ["311-000001", "311-000002"]
    assert query.statuses == [] and query.start is None


def test_location_filter_defaults_to_500_metres():
    query = params.request_query({"lat": "35.05", "long": "-85.3"}, NOW)
    assert query.near == (35.05, -85.3, 500.0)


@pytest.mark.parametrize(
    "args, field",
    [
        ({"start_date": "2024-01-01", "end_date": "2024-04-01"}, "end_date"),
        ({"status": "open,pending"}, "status"),
        ({"page_size": "0"}, "page_size"),
        ({"long": "-85.3"}, "lat"),
        ({"radius": "10"}, "radius"),
        ({"lat": "nan", "long": "1"}, "lat"),
        (
            {"service_request_id": ",".join(f"311-{i:06d}" for i in range(1001))},
            "service_request_id",
        ),
    ],
)
def test_bad_query_parameters_name_their_field(args, field):
    with pytest.raises(DomainError) as caught:
        params.request_query(args, NOW)
    assert caught.value.status == 400
    assert caught.value.field == field


def test_attribute_fields_become_answers():
    form = MultiDict(
        [
            ("attribute[size]", "large"),
            ("attribute[colors][]", "red"),
            ("attribute[colors][]", "blue"),
            ("attribute[tags]", "a"),
            ("attribute[tags]", "b"),
            ("description", "ignored"),
        ]
    )
    assert params.attribute_answers(form) == {
        "size": "large",
        "colors": ["red", "blue"],
        "tags": ["a", "b"],
    }


def test_xml_repeats_singular_children_for_lists_and_writes_booleans():
    root = to_xml(
        "services",
        [{"service_code": "a", "metadata": True, "keywords": None}, {"service_code": "b"}],
    )
    assert [child.tag for child in root] == ["service", "service"]
    first = root[0]
    assert first.find("metadata").text == "true"
    assert first.find("keywords").text is None
    nested = to_xml("request", {"extended_attributes": {"photos": [{"url": "u"}], "x": [1]}})
    assert nested.find("extended_attributes/photos/photo/url").text == "u"
    assert nested.find("extended_attributes/x/item").text == "1"


def test_xml_drops_characters_xml_cannot_carry():
    root = to_xml("request", {"description": "bell\x07 and tab\tok"})
    assert root.find("description").text == "bell and tab\tok"
