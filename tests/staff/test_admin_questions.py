"""Changing an existing question of a service: the rules in webapp.domain.people.administration."""

from __future__ import annotations

import pytest

from webapp.domain.errors import DomainError
from webapp.domain.people import administration


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def test_a_question_is_changed_in_place(city):
    pothole = city["pothole"]
    size = next(a for a in pothole.attributes if a.code == "size")
    administration.update_attribute(
        pothole,
        size.id,
        {
            "code": "size",
            "description": "How wide?",
            "datatype": "singlevaluelist",
            "required": False,
            "values": "s=Small\nl=Large\nxl=Huge",
        },
    )
    assert (size.description, size.required) == ("How wide?", False)
    assert [v["key"] for v in size.values] == ["s", "l", "xl"]
    assert administration.values_text(size) == "s=Small\nl=Large\nxl=Huge"


def test_a_changed_question_cannot_take_another_questions_code(city):
    pothole = city["pothole"]
    size = next(a for a in pothole.attributes if a.code == "size")
    with pytest.raises(DomainError) as refused:
        administration.update_attribute(
            pothole, size.id, {"code": "lane", "description": "x", "datatype": "string"}
        )
    assert refused.value.field == "code"


def test_a_question_of_another_service_is_not_found(city):
    other = city["graffiti"]
    size = next(a for a in city["pothole"].attributes if a.code == "size")
    with pytest.raises(DomainError) as refused:
        administration.update_attribute(other, size.id, {"code": "size", "description": "x"})
    assert refused.value.status == 404
