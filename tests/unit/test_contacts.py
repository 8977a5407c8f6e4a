"""Signature lines -> contact fields (phones in E.164 with types, title/company layouts...)."""

from __future__ import annotations

from typing import Any

import pytest

from intel.nlp.contacts import Contact, SpacyHelper, parse_signature


def fields(lines: str, sender: str | None = None, offset: int | None = None, **kw: Any) -> dict[str, Any]:
    return parse_signature(lines.split("\n"), sender, offset_minutes=offset, **kw).to_json()


CASES = [
    (
        "Sanne de Vries\nOperations Manager | Northwind Logistics B.V.\nT: +31 10 555 0142 | M: +31 6 5555 0198\n"
        "www.northwind-logistics.example",
        "sanne.devries@northwind-logistics.example",
        None,
        {
            "name": "Sanne de Vries",
            "title": "Operations Manager",
            "company": "Northwind Logistics B.V.",
            "phones": ["+31105550142", "+31655550198"],
            "phone_types": {"+31105550142": "office", "+31655550198": "mobile"},
            "websites": ["www.northwind-logistics.example"],
        },
    ),
    (
        "━━━━━━━━━━━━\nSakura Components Co., Ltd.\nManager, Information Systems Dept.\nHaruto Sato\n"
        "2-4-1 Umeda, Kita-ku, Osaka 530-0001, Japan\nTEL: +81-6-6555-0123 / FAX: +81-6-6555-0124\n"
        "E-mail: haruto.sato@sakura-components.example\n━━━━━━━━━━━━",
        "Haruto Sato <haruto.sato@sakura-components.example>",
        540,
        {
            "name": "Haruto Sato",
            "title": "Manager, Information Systems Dept.",
            "company": "Sakura Components Co., Ltd.",
            "address": "2-4-1 Umeda, Kita-ku, Osaka 530-0001, Japan",
            "phone_types": {"+81665550123": "office", "+81665550124": "fax"},
            "emails": ["haruto.sato@sakura-components.example"],
        },
    ),
    (
        "Yui Tanaka\nPurchasing Coordinator, Sakura Components Co., Ltd.",
        "yui.tanaka@sakura-components.example",
        None,
        {"name": "Yui Tanaka", "title": "Purchasing Coordinator", "company": "Sakura Components Co., Ltd."},
    ),
    (
        "Liam O'Connor\nFleet Systems Manager | Outback Freight Pty Ltd\nM: 0491 570 156\noutbackfreight.example",
        "Liam O'Connor <liam.oconnor@outbackfreight.example>",
        600,  # no country code: the sender's offset (+10:00) says Australia
        {"name": "Liam O'Connor", "phones": ["+61491570156"], "phone_types": {"+61491570156": "mobile"}},
    ),
    (
        "Monica Alvarez\nPartner\nLAKESHORE LAW GROUP LLP\n330 N. Wabash Ave., Suite 2800\nChicago, Illinois 60611\n"
        "Direct: 312.555.0187\nmalvarez@lakeshore-law.com",
        '"Alvarez, Monica" <malvarez@lakeshore-law.com>',
        -300,
        {
            "name": "Monica Alvarez",
            "title": "Partner",
            "company": "LAKESHORE LAW GROUP LLP",
            "address": "330 N. Wabash Ave., Suite 2800, Chicago, Illinois 60611",
            "phone_types": {"+13125550187": "office"},
        },
    ),
    (
        "Jonas Weber\nKraftwerk IT GmbH\nHafenstraße 12\n20457 Hamburg\nTelefon: +49 40 555 123 40\n"
        "Mobil: +49 171 555 9876",
        "Jonas Weber <jonas.weber@kraftwerk-it.de>",
        120,
        {
            "company": "Kraftwerk IT GmbH",
            "address": "Hafenstraße 12, 20457 Hamburg",
            "phone_types": {"+494055512340": "office", "+491715559876": "mobile"},
        },
    ),
    (
        "Marcus Lee\nGeneral Partner, Cobalt Ventures\nm: 415-555-0162\nt: @marcuslee",
        "Marcus Lee <mlee@cobaltventures.vc>",
        -420,
        {"title": "General Partner", "company": "Cobalt Ventures", "phones": ["+14155550162"]},
    ),
    (
        "Ananya Iyer\nData Platform Lead\nKestrel Analytics Pvt. Ltd.\nMob: +91 98450 12345\n"
        "https://kestrel-analytics.example\nlinkedin.com/in/ananya-iyer-data",
        "ananya.iyer@kestrel-analytics.example",
        330,
        {
            "title": "Data Platform Lead",
            "company": "Kestrel Analytics Pvt. Ltd.",
            "websites": ["https://kestrel-analytics.example"],
            "social": ["linkedin.com/in/ananya-iyer-data"],
        },
    ),
    ("Thanks, Ana", "ana.lima@x.example", None, {"name": "Ana"}),
    ("-a", "aaron@fischer.dev", None, {"name": None}),
    ("ravi", "ravi.k@gmail.com", None, {"name": "Ravi", "company": None}),
    (
        "Lena Kowalczyk\nPlatform Engineering @ Fintrak\nSlack: @lena.k",
        "lena.kowalczyk@fintrak.pl",
        None,
        {"name": "Lena Kowalczyk", "title": "Platform Engineering", "company": "Fintrak"},
    ),
    (
        "Priya Raman\nSupport Engineer | Harborlight Software\n+44 117 496 0123 | support@harborlight.example",
        "Harborlight Support <support@harborlight.example>",  # the display name is the team, not the person
        60,
        {"name": "Priya Raman", "company": "Harborlight Software", "emails": ["support@harborlight.example"]},
    ),
]


@pytest.mark.parametrize(
    ("lines", "sender", "offset", "expected"), CASES, ids=[c[0].split("\n")[0][:24] for c in CASES]
)
def test_fields(lines: str, sender: str, offset: int | None, expected: dict[str, Any]) -> None:
    got = fields(lines, sender, offset)
    for key, value in expected.items():
        assert got[key] == value, (key, got)


def test_empty_and_footer_only() -> None:
    assert parse_signature([], None).to_json()["name"] is None
    assert parse_signature(["Sent from my iPhone"], None).to_json()["phones"] == []


def test_confidences_are_between_0_and_1() -> None:
    contact = parse_signature(["Jane Doe", "CTO, Acme Inc.", "+1 415 555 0199"], "jane@acme.example")
    assert contact.name == "Jane Doe" and contact.title == "CTO" and contact.company == "Acme Inc."
    assert set(contact.confidence) >= {"name", "title", "company", "phones"}
    assert all(0 < c <= 1 for c in contact.confidence.values())


class FakeSpacy(SpacyHelper):
    """Stands in for the spaCy pipeline: labels what the test says, counts calls."""

    def __init__(self, ents: dict[str, list[tuple[str, str]]]) -> None:
        super().__init__()
        self.ents = ents

    def entities(self, texts: Any) -> list[list[tuple[str, str]]]:
        self.calls += len(texts)
        return [self.ents.get(t, []) for t in texts]


def test_spacy_is_asked_only_for_what_the_rules_leave_open() -> None:
    helper = FakeSpacy({"Nimbus Collective": [("Nimbus Collective", "ORG")]})
    contact = parse_signature(["Jane Doe", "Nimbus Collective"], "jane@gmail.com", spacy=helper)
    assert contact.company == "Nimbus Collective" and contact.confidence["company"] == 0.6
    assert helper.calls == 1
    helper = FakeSpacy({})
    parse_signature(["Jane Doe", "CTO, Acme Inc."], "jane@acme.example", spacy=helper)
    assert helper.calls == 0


def test_real_spacy_pipeline_loads_with_rule_components() -> None:
    helper = SpacyHelper()
    nlp = helper.load()
    assert "entity_ruler" in nlp.pipe_names and "ner" in nlp.pipe_names
    (ents,) = helper.entities(["Senior Software Engineer"])
    assert ("Senior Software Engineer", "TITLE") in ents


def test_contact_json_shape() -> None:
    assert set(Contact().to_json()) == {
        "name", "title", "company", "phones", "emails", "websites", "address", "social", "phone_types",
    }  # fmt: skip
