"""The deterministic demo mailbox of Harborlight Software.

`intel run` without an ``intel.toml`` imports this mailbox so that a newcomer sees every table
and the report. Everything is a pure function of the seed: people, companies and phrases come
from the tables at the top of this module, dates are fixed in June-September 2026 (never the
current time) and every random choice is drawn from one ``random.Random(seed)`` in a fixed
order, so the same seed always gives byte-identical files.

Besides writing a Maildir++ tree, the generator returns the ground truth of every message
(:class:`DemoMessage`): thread, direction, labels, activities with resolved dates and the
fields of the signature, for tests and notebooks that evaluate the parser and the models.

How relative dates in the bodies resolve (against the sender's local date and offset):

* "next Tuesday" is the Tuesday of the following Monday-to-Sunday week;
* "this Thursday" and "by Thursday EOD" are only written when Thursday is later this week;
* "by Friday" / "by the end of the week" mean Friday of the current week (written Mon-Thu);
* "EOD", "end of day" and "close of business" are 17:00 local time;
* a time followed by a zone label ("10:30 CEST", "3pm ET", "14:00 UK time") is in that zone,
  any other time in the sender's own offset;
* a due date without a time is recorded as an ISO date (``2026-06-05``), everything else as
  an ISO datetime with offset (``2026-06-05T17:00:00+02:00``).

Activity ``text`` is the sentence of the new text (above quotes) that holds the phrase, verbatim
(sometimes with the sentence that follows it); quoted copies of earlier messages carry no
activities of their own.

The cast: Harborlight Software (``harborlight.example``, Bristol, +0100) answers from
``support@`` (Priya Raman), ``daniel.okafor@`` (sales, Boston, -0400), ``maya.lindqvist@``
(customer success) and ``oliver.grant@`` (escalations); customers write to those or to
``sales@``. Twenty-six people at thirteen ``.example`` companies write from +1000 to -0700.
Each message kind has a composer below with its own pools of phrasings; the shared facts of a
conversation (feature, ticket, plan, quote...) are drawn once per thread.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import quopri
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.headerregistry import Address
from email.utils import format_datetime
from pathlib import Path
from typing import Any

__all__ = ["DEMO_IDENTITY", "DEMO_SEED", "DemoMessage", "demo_messages", "write_demo_maildir"]

DEMO_SEED: int = 20260601
_DOMAIN = "harborlight.example"
DEMO_IDENTITY: tuple[str, ...] = (f"*@{_DOMAIN}",)
_FIRST_DAY = date(2026, 6, 1)
_LAST_DAY = date(2026, 9, 30)
_EOD_HOUR = 17

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# --------------------------------------------------------------------------------------------
# People and companies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Company:
    key: str
    name: str
    short: str
    domain: str
    offset: int  # minutes east of UTC during June-September 2026
    tz_label: str  # how people there name their zone in a sentence
    clock: int  # 12 or 24 hour times
    address: str
    website: str
    currency: str
    outlook_host: str  # prefix of Exchange Online host names, for Outlook Message-IDs
    city: str
    disclaimer: str | None = None


_DISCLAIMER_HEALTH = (
    "CONFIDENTIALITY NOTICE: This message, including any attachments, is for the sole use of the "
    "intended recipient(s) and may contain confidential and privileged information. Any unauthorized "
    "review, use, disclosure or distribution is prohibited. If you are not the intended recipient, "
    "please contact the sender by reply email and destroy all copies of the original message."
)
_DISCLAIMER_INSURANCE = (
    "Diese E-Mail kann vertrauliche Informationen enthalten. This e-mail may contain confidential "
    "information. If you have received it in error, please notify the sender immediately and delete "
    "it. Alpenrose Versicherung AG accepts no liability for changes made to this message after it was sent."
)

_COMPANIES: tuple[_Company, ...] = (
    _Company(
        "northwind", "Northwind Logistics B.V.", "Northwind", "northwind-logistics.example", 120, "CEST", 24,
        "Wilhelminakade 91, 3072 AP Rotterdam, Netherlands", "www.northwind-logistics.example", "EUR",
        "AM0PR04", "Rotterdam",
    ),
    _Company(
        "kestrel", "Kestrel Analytics Pvt. Ltd.", "Kestrel", "kestrel-analytics.example", 330, "IST", 12,
        "4th Floor, Panchshil Tech Park, Yerwada, Pune 411006, India", "https://kestrel-analytics.example", "USD",
        "PN2PR01", "Pune",
    ),
    _Company(
        "bluefin", "Bluefin Retail Group", "Bluefin", "bluefin-retail.example", -300, "CT", 12,
        "233 S Wacker Dr, Suite 4400, Chicago, IL 60606, USA", "bluefin-retail.example", "USD",
        "BN6PR11", "Chicago",
    ),
    _Company(
        "alpenrose", "Alpenrose Versicherung AG", "Alpenrose", "alpenrose.example", 120, "CEST", 24,
        "Bahnhofstrasse 42, 8001 Zürich, Switzerland", "www.alpenrose.example", "CHF",
        "ZR0P278", "Zürich", _DISCLAIMER_INSURANCE,
    ),
    _Company(
        "tidewater", "Tidewater Health Partners", "Tidewater", "tidewater-health.example", -240, "ET", 12,
        "1100 Light Street, Baltimore, MD 21230, USA", "tidewater-health.example", "USD",
        "MN2PR05", "Baltimore", _DISCLAIMER_HEALTH,
    ),
    _Company(
        "sakura", "Sakura Components Co., Ltd.", "Sakura", "sakura-components.example", 540, "JST", 24,
        "2-4-1 Umeda, Kita-ku, Osaka 530-0001, Japan", "www.sakura-components.example", "USD",
        "OS3PR01", "Osaka",
    ),
    _Company(
        "cordillera", "Cordillera Energía S.A.S.", "Cordillera", "cordillera-energia.example", -300, "COT", 24,
        "Carrera 7 # 71-21, Torre B, Piso 9, Bogotá, Colombia", "www.cordillera-energia.example", "USD",
        "CP6PR84", "Bogotá",
    ),
    _Company(
        "outback", "Outback Freight Pty Ltd", "Outback Freight", "outbackfreight.example", 600, "AEST", 12,
        "Level 12, 1 Market Street, Sydney NSW 2000, Australia", "outbackfreight.example", "USD",
        "SY4PR01", "Sydney",
    ),
    _Company(
        "mapleridge", "Maple Ridge Foods Inc.", "Maple Ridge", "mapleridge-foods.example", -240, "ET", 12,
        "181 Bay Street, Suite 1800, Toronto, ON M5J 2T3, Canada", "www.mapleridge-foods.example", "USD",
        "YT3PR01", "Toronto",
    ),
    _Company(
        "nordlys", "Nordlys Energi AS", "Nordlys", "nordlys.example", 120, "CEST", 24,
        "Dronning Eufemias gate 16, 0191 Oslo, Norway", "www.nordlys.example", "EUR",
        "GV0P278", "Oslo",
    ),
    _Company(
        "sahara", "Sahara Textiles SARL", "Sahara Textiles", "sahara-textiles.example", 60, "Casablanca time", 24,
        "120 Boulevard d'Anfa, 20050 Casablanca, Morocco", "www.sahara-textiles.example", "EUR",
        "PR3PR02", "Casablanca",
    ),
    _Company(
        "lagos", "Lagos FinServe Ltd", "Lagos FinServe", "lagosfinserve.example", 60, "WAT", 12,
        "14 Adeola Odeku Street, Victoria Island, Lagos, Nigeria", "lagosfinserve.example", "USD",
        "DB8PR10", "Lagos",
    ),
    _Company(
        "pacific", "Pacific Crest Media", "Pacific Crest", "pacificcrest.example", -420, "PT", 12,
        "600 Harrison Street, San Francisco, CA 94107, USA", "pacificcrest.example", "USD",
        "BYAPR13", "San Francisco",
    ),
)  # fmt: skip

_OUTLOOK_REGIONS = {
    "AM0PR04": "eurprd04",
    "PN2PR01": "INDPRD01",
    "BN6PR11": "namprd11",
    "ZR0P278": "CHEP278",
    "MN2PR05": "namprd05",
    "OS3PR01": "jpnprd01",
    "CP6PR84": "LAMPRD84",
    "SY4PR01": "ausprd01",
    "YT3PR01": "CANPRD01",
    "GV0P278": "CHEP278",
    "PR3PR02": "eurprd02",
    "DB8PR10": "eurprd10",
    "BYAPR13": "namprd13",
    "CWLP265": "GBRP265",
}

# (company, name, signs as, mailbox, title, client, signature style, phones, linkedin, mobile, drops refs)
# phones: (label as printed, number as printed, E.164)
_CONTACTS: tuple[tuple[Any, ...], ...] = (
    ("northwind", "Sanne de Vries", "Sanne", "sanne.devries", "Operations Manager", "outlook", "pipe",
     (("T:", "+31 10 555 0142", "+31105550142"), ("M:", "+31 6 5555 0198", "+31655550198")), None, False, False),
    ("northwind", "Pieter Bakker", "Pieter", "pieter.bakker", "IT Coordinator", "gmail", "name_only",
     (), None, True, False),
    ("kestrel", "Ananya Iyer", "Ananya", "ananya.iyer", "Data Platform Lead", "gmail", "dashdash",
     (("Mob:", "+91 98450 12345", "+919845012345"),), "linkedin.com/in/ananya-iyer-data", False, False),
    ("kestrel", "Rohan Mehta", "Rohan", "rohan.mehta", "Engineering Manager", "thunderbird", "pipe",
     (("Ph:", "+91 20 5555 0133", "+912055550133"),), None, False, False),
    ("bluefin", "Marcus Johnson", "Marcus", "marcus.johnson", "Director of IT", "outlook", "address",
     (("Tel.", "+1 (312) 555-0147", "+13125550147"), ("Fax", "+1 (312) 555-0148", "+13125550148")),
     None, False, False),
    ("bluefin", "Keisha Williams", "Keisha", "keisha.williams", "Procurement Specialist", "outlook", "pipe",
     (("Direct:", "(312) 555-0163", "+13125550163"),), None, True, False),
    ("alpenrose", "Zoë Müller", "Zoë", "zoe.mueller", "Head of Procurement", "outlook", "formal",
     (("Tel.", "+41 44 555 01 23", "+41445550123"), ("Fax", "+41 44 555 01 99", "+41445550199")),
     None, False, False),
    ("alpenrose", "Lukas Brunner", "Lukas", "lukas.brunner", "IT Security Officer", "outlook", "formal",
     (("Tel.", "+41 44 555 01 57", "+41445550157"),), None, False, False),
    ("tidewater", "Rachel Goldberg", "Rachel", "rachel.goldberg", "Clinical Systems Manager", "outlook", "address",
     (("Office:", "410-555-0121", "+14105550121"), ("Cell:", "410-555-0188", "+14105550188")), None, False, False),
    ("tidewater", "Samuel Adeyemi", "Sam", "samuel.adeyemi", "Help Desk Lead", "gmail", "pipe",
     (("Tel.", "(410) 555-0175", "+14105550175"),), None, True, False),
    ("sakura", "Haruto Sato", "Haruto", "haruto.sato", "Manager, Information Systems Dept.", "outlook", "japan",
     (("TEL:", "+81-6-6555-0123", "+81665550123"), ("FAX:", "+81-6-6555-0124", "+81665550124")),
     None, False, False),
    ("sakura", "Yui Tanaka", "Yui", "yui.tanaka", "Purchasing Coordinator", "gmail", "name_title",
     (), None, False, False),
    ("cordillera", "Valentina Restrepo", "Valentina", "valentina.restrepo", "Operations Manager", "gmail",
     "dashdash", (("Cel.", "+57 310 555 0142", "+573105550142"),), "linkedin.com/in/valentinarestrepo", False,
     False),
    ("cordillera", "Andrés Gómez", "Andrés", "andres.gomez", "IT Analyst", "gmail", "name_only",
     (), None, True, True),
    ("outback", "Liam O'Connor", "Liam", "liam.oconnor", "Fleet Systems Manager", "apple", "pipe",
     (("M:", "0491 570 156", "+61491570156"),), None, True, False),
    ("outback", "Chloe Nguyen", "Chloe", "chloe.nguyen", "Finance Officer", "outlook", "address",
     (("P:", "+61 2 5550 1234", "+61255501234"),), None, False, False),
    ("mapleridge", "Sophie Tremblay", "Sophie", "sophie.tremblay", "VP Operations", "apple", "linkedin",
     (("C:", "416-555-0190", "+14165550190"),), "linkedin.com/in/sophietremblay", True, False),
    ("mapleridge", "Arjun Singh", "Arjun", "arjun.singh", "Systems Analyst", "gmail", "name_title",
     (), None, False, False),
    ("nordlys", "Ingrid Halvorsen", "Ingrid", "ingrid.halvorsen", "CTO", "apple", "dashdash",
     (("M:", "+47 912 34 567", "+4791234567"),), None, False, False),
    ("nordlys", "Erik Solberg", "Erik", "erik.solberg", "Customer Service Lead", "outlook", "pipe",
     (("Tlf.", "+47 22 55 50 10", "+4722555010"),), None, False, False),
    ("sahara", "Youssef El Amrani", "Youssef", "youssef.elamrani", "Sales Director", "gmail", "pipe",
     (("Tél.", "+212 522 55 01 23", "+212522550123"),), None, False, False),
    ("sahara", "Fatima Benali", "Fatima", "fatima.benali", "IT Manager", "gmail", "name_only",
     (), None, True, True),
    ("lagos", "Chinedu Okeke", "Chinedu", "chinedu.okeke", "Head of Digital Channels", "outlook", "address",
     (("M:", "+234 803 555 0142", "+2348035550142"),), "linkedin.com/in/chineduokeke", False, False),
    ("lagos", "Ngozi Eze", "Ngozi", "ngozi.eze", "Compliance Analyst", "gmail", "name_title",
     (), None, True, True),
    ("pacific", "Emily Chen", "Emily", "emily.chen", "Head of Partnerships", "apple", "linkedin",
     (), "linkedin.com/in/emilychen-pcm", True, False),
    ("pacific", "Diego Ramírez", "Diego", "diego.ramirez", "Senior Producer", "gmail", "pipe",
     (("M:", "(415) 555-0109", "+14155550109"),), None, False, False),
)  # fmt: skip


@dataclass(frozen=True)
class _Actor:
    key: str
    name: str
    first: str
    email: str
    title: str
    company: str
    offset: int
    tz_label: str
    client: str  # gmail | outlook | outlook_legacy | apple | thunderbird
    clock: int = 24
    sig_style: str = "name_only"
    phones: tuple[tuple[str, str, str], ...] = ()
    website: str | None = None
    address: str | None = None
    linkedin: str | None = None
    mobile: bool = False
    drops_refs: bool = False
    disclaimer: str | None = None
    staff: bool = False
    team: bool = False  # a shared inbox: greeted as a team, never sends
    display: str | None = None
    company_key: str = ""
    company_short: str = ""
    city: str = ""
    currency: str = "USD"
    outlook_host: str = "CWLP265"

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(minutes=self.offset))

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


_HQ: dict[str, Any] = dict(
    company="Harborlight Software", staff=True, company_key="harborlight", company_short="Harborlight"
)
_PRIYA = _Actor("priya", "Priya Raman", "Priya", "support@harborlight.example", "Support Engineer",
                offset=60, tz_label="UK time", client="gmail", display="Harborlight Support", **_HQ)  # fmt: skip
_DANIEL = _Actor("daniel", "Daniel Okafor", "Daniel", "daniel.okafor@harborlight.example", "Account Executive",
                 offset=-240, tz_label="ET", client="outlook", clock=12, **_HQ)  # fmt: skip
_MAYA = _Actor("maya", "Maya Lindqvist", "Maya", "maya.lindqvist@harborlight.example", "Customer Success Manager",
               offset=60, tz_label="UK time", client="apple", **_HQ)  # fmt: skip
_OLIVER = _Actor("oliver", "Oliver Grant", "Oliver", "oliver.grant@harborlight.example", "Head of Support Operations",
                 offset=60, tz_label="BST", client="outlook_legacy", **_HQ)  # fmt: skip
_SUPPORT_INBOX = _Actor("support", "Harborlight Support", "", "support@harborlight.example", "", offset=60,
                        tz_label="UK time", client="gmail", team=True, **_HQ)  # fmt: skip
_SALES_INBOX = _Actor("sales", "Harborlight Sales", "", "sales@harborlight.example", "", offset=-240,
                      tz_label="ET", client="outlook", team=True, **_HQ)  # fmt: skip

# Our staff sign every message with the same block; only the sign-off line varies.
_STAFF_SIGNATURES: dict[str, tuple[tuple[str, ...], str, dict[str, Any]]] = {
    "priya": (
        ("Best regards,", "Kind regards,", "Best,"),
        "Priya Raman\nSupport Engineer | Harborlight Software\n+44 117 496 0123 | support@harborlight.example\n"
        "https://harborlight.example/help",
        {"name": "Priya Raman", "title": "Support Engineer", "company": "Harborlight Software",
         "phones": ["+441174960123"], "emails": ["support@harborlight.example"],
         "websites": ["https://harborlight.example/help"]},
    ),
    "daniel": (
        ("Best,", "Thanks,", "Best regards,"),
        "Daniel\n\n-- \nDaniel Okafor\nAccount Executive | Harborlight Software\nM: +1 617 555 0134\n"
        "daniel.okafor@harborlight.example\nwww.harborlight.example | linkedin.com/in/daniel-okafor-hl",
        {"name": "Daniel Okafor", "title": "Account Executive", "company": "Harborlight Software",
         "phones": ["+16175550134"], "emails": ["daniel.okafor@harborlight.example"],
         "websites": ["www.harborlight.example"], "social": ["linkedin.com/in/daniel-okafor-hl"]},
    ),
    "maya": (
        ("Warm regards,", "Best wishes,", "All the best,"),
        "Maya Lindqvist\nCustomer Success Manager\nHarborlight Software\n"
        "Canons Way 12, Bristol BS1 5TX, United Kingdom\nT: +44 117 496 0456\nwww.harborlight.example",
        {"name": "Maya Lindqvist", "title": "Customer Success Manager", "company": "Harborlight Software",
         "phones": ["+441174960456"], "address": "Canons Way 12, Bristol BS1 5TX, United Kingdom",
         "websites": ["www.harborlight.example"]},
    ),
    "oliver": (
        ("Regards,", "Kind regards,"),
        "Oliver Grant\nHead of Support Operations, Harborlight Software\n"
        "Tel. +44 117 496 0789 | Fax +44 117 496 0790",
        {"name": "Oliver Grant", "title": "Head of Support Operations", "company": "Harborlight Software",
         "phones": ["+441174960789", "+441174960790"]},
    ),
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Phrase tables (slot names in braces are filled from the thread's state)
# --------------------------------------------------------------------------------------------

_FEATURES = (
    ("the Salesforce connector", "Salesforce connector"),
    ("the nightly CSV export", "nightly CSV export"),
    ("single sign-on", "SSO login"),
    ("the reporting dashboard", "reporting dashboard"),
    ("the Beacon mobile app", "mobile app"),
    ("the webhook delivery", "webhooks"),
    ("the bulk user import", "bulk user import"),
    ("the audit log export", "audit log export"),
    ("SCIM user provisioning", "SCIM provisioning"),
    ("the scheduled reports feature", "scheduled reports"),
    ("the REST API", "REST API"),
    ("the Jira integration", "Jira integration"),
    ("email-to-ticket forwarding", "email forwarding"),
    ("the SLA timer", "SLA timers"),
)
_SYMPTOMS = (
    "fails with a 502 Bad Gateway error",
    "times out after about 30 seconds",
    "returns an 'invalid_grant' error",
    "just shows a blank page",
    "creates duplicate records",
    "stopped running overnight",
    "has become extremely slow",
    "logs people out every few minutes",
    "silently drops some of our events",
    "shows last week's numbers instead of today's",
    "throws a 'permission denied' error for admins",
)
_VERSIONS = ("4.2.1", "4.2.3", "4.3.0", "4.3.2")
_PLANS = ("Team", "Business", "Enterprise")
_PRICES = {"Team": 29, "Business": 49, "Enterprise": 79}
_DEPTS = (
    "customer service",
    "field support",
    "IT service desk",
    "claims",
    "billing",
    "member services",
    "dispatch",
    "onboarding",
)
_HOWTOS = (
    "limit access to a single business unit",
    "schedule runs outside business hours",
    "map our custom fields",
    "restrict access to team leads only",
    "send the results to our data warehouse",
    "cover more than one region at a time",
    "keep more than 90 days of history",
    "trigger runs from our own scripts",
    "exclude test accounts",
)
_SINCE = ("yesterday's update", "the upgrade to {version}", "Monday morning", "the weekend", "your maintenance window")
_STARTED = (
    "after the upgrade to {version}",
    "yesterday afternoon",
    "over the weekend",
    "right after your maintenance window",
    "a couple of days ago",
)
_TRIED = (
    "clearing the cache",
    "re-authenticating the integration",
    "rolling back our own configuration change",
    "a different browser",
    "restarting the sync from the admin panel",
)
_PURPOSES = (
    "go through the rollout plan",
    "review your reporting requirements",
    "discuss the renewal options",
    "plan the migration from our old helpdesk",
    "walk the new admins through the workflow builder",
    "go over the open tickets",
    "agree the next steps",
    "review the quote together",
    "talk through the integration architecture",
    "look at the SLA settings together",
)
_DOCS_FROM_US = (
    "a copy of invoice {inv}",
    "your SOC 2 Type II report",
    "the updated data processing agreement",
    "the signed SOW",
    "a certificate of insurance",
    "the release notes for {version}",
    "a breakdown of our licence usage for Q2",
    "your completed vendor registration form",
)
_DOCS_FROM_THEM = (
    "the signed SOW",
    "the countersigned order form",
    "your completed onboarding checklist",
    "the PO number for the renewal",
    "the list of admin users for the new workspace",
    "your IdP metadata file for SSO",
    "the signed DPA",
)
_REASONS = (
    "our finance team closes the month then",
    "legal needs it before the kickoff",
    "we can't raise the PO without it",
    "our auditors have asked for it",
    "the project board meets the following Monday",
    "procurement won't release the budget until it's on file",
)
_REQS = (
    "EU data residency",
    "SSO with Azure AD",
    "a 99.9% uptime SLA",
    "a sandbox environment",
    "24/7 phone support",
    "HIPAA-compliant hosting",
)
_EVENTS = (
    "Customer Service Expo in London",
    "SupportDriven meetup",
    "Helpdesk Summit in Amsterdam",
    "webinar last week",
)

_GREET_PERSON = (
    "Hi {name},",
    "Hello {name},",
    "Hi {name},",
    "Dear {name},",
    "Hey {name},",
    "{name},",
    "Good {part} {name},",
)
_GREET_TEAM = (
    "Hi Harborlight team,",
    "Hello,",
    "Hi there,",
    "Hello support team,",
    "Dear Harborlight team,",
    "Hi all,",
)
_GREET_SALES = ("Hello,", "Hi there,", "Dear Sales team,", "Hi Harborlight team,")
_OPEN_FIRST = (
    "I hope you're well.",
    "Hope you're having a good week.",
    "I hope this email finds you well.",
    "",
    "",
    "",
)
_SIGNOFFS = ("Best,", "Best regards,", "Kind regards,", "Thanks,", "Many thanks,", "Cheers,", "Regards,", "Thank you,")

# --------------------------------------------------------------------------------------------
# Public ground truth
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoMessage:
    """The ground truth of one generated message.

    `sender` and `recipients` (To then Cc) are lower-case bare addresses. `signature` holds the
    fields printed in this message's signature block (``name``, ``title``, ``company``,
    ``phones`` in E.164, ``emails``, ``websites``, ``address``, ``social``), or None when the
    message has none (e.g. only "Sent from my iPhone"). `activities` lists the meetings, calls
    and tasks written in the new text, see the module docstring for how dates resolve.
    """

    message_id: str
    thread_key: str
    folder: str
    direction: str
    sent_at: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    intent: str
    sentiment: str
    emotion: str
    activities: tuple[dict[str, Any], ...]
    signature: dict[str, Any] | None


def demo_messages(seed: int = DEMO_SEED) -> list[DemoMessage]:
    """Return the ground truth of the demo mailbox, in the order the files are written."""
    return [_truth(d) for d in _generate(seed)]


def write_demo_maildir(root: Path, seed: int = DEMO_SEED) -> list[DemoMessage]:
    """Write the demo mailbox as a Maildir++ tree under `root` and return its ground truth.

    ``root/{cur,new,tmp}`` is INBOX (what we received) and ``root/.Sent`` holds what we sent.
    Files are named ``{epoch}.demo{n:05d}.harborlight:2,S`` in ``cur/``, where `n` counts
    messages in date order over both folders, and get the send time as their mtime. Files of
    the same name are overwritten; nothing else under `root` is touched.
    """
    root = Path(root)
    drafts = _generate(seed)
    folders = {"INBOX": root, "Sent": root / ".Sent"}
    for folder in folders.values():
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    (root / ".Sent" / "maildirfolder").touch()
    for n, draft in enumerate(drafts, start=1):
        folder = folders["Sent" if draft.sender.staff else "INBOX"]
        epoch = int(draft.sent_at.timestamp())
        name = f"{epoch}.demo{n:05d}.harborlight"
        tmp_path = folder / "tmp" / name
        tmp_path.write_bytes(_render(draft))
        os.utime(tmp_path, (epoch, epoch))
        os.replace(tmp_path, folder / "cur" / f"{name}:2,S")
    return [_truth(d) for d in drafts]


# --------------------------------------------------------------------------------------------
# Drafts, threads and the composing context
# --------------------------------------------------------------------------------------------


@dataclass
class _Content:
    paragraphs: list[str]
    intent: str
    sentiment: str
    emotion: str
    activities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Draft:
    seq: int
    thread_key: str
    sender: _Actor
    to: tuple[_Actor, ...]
    cc: tuple[_Actor, ...]
    sent_at: datetime
    subject: str
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    content: _Content
    new_text: str
    quote_text: str
    signature: dict[str, Any] | None
    mobile: bool = False
    html: bool = False
    attachment: tuple[str, str, bytes] | None = None

    @property
    def body(self) -> str:
        return self.new_text + ("\n\n" + self.quote_text if self.quote_text else "") + "\n"


class _Ctx:
    """What a composer needs to write one message: who, when, and the thread so far."""

    def __init__(self, thread: _Thread, sender: _Actor, to: _Actor, sent: datetime, level: int, attach: bool):
        self.thread = thread
        self.rng = thread.rng
        self.state = thread.state
        self.sender = sender
        self.to = to
        self.sent = sent
        self.level = level
        self.attach = attach
        self.reply = bool(thread.msgs)
        self.activities: list[dict[str, Any]] = []

    def pick(self, options: Sequence[str]) -> str:
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def fill(self, template: str, **extra: Any) -> str:
        return template.format(**{**self.slots(), **extra})

    def slots(self) -> dict[str, Any]:
        s = self.state
        customer = self.thread.customer
        return {
            "feature": s["feature"][0],
            "short": s["feature"][1],
            "Short": s["feature"][1][0].upper() + s["feature"][1][1:],
            "symptom": s["symptom"],
            "version": s["version"],
            "ticket": s["ticket"],
            "plan": s["plan"],
            "seats": s["seats"],
            "dept": s["dept"],
            "quote": s["quote"],
            "inv": s["inv"],
            "po": s["po"],
            "howto": s["howto"],
            "req": s["req"],
            "extra": s["extra"],
            "pct": s["pct"],
            "adoption": s["adoption"],
            "company": customer.company_short,
            "city": customer.city,
            "their": self.to.first,
            "me": self.sender.first,
        }

    # -- dates ----------------------------------------------------------------------------------

    def _time_text(self, hour: int, minute: int) -> str:
        if hour == 12 and minute == 0 and self.chance(0.3):
            return "noon"
        if self.sender.clock == 24:
            return f"{hour:02d}:{minute:02d}" if hour < 10 and self.chance(0.5) else f"{hour}:{minute:02d}"
        h12, ampm = (hour % 12 or 12), ("am" if hour < 12 else "pm")
        if minute == 0:
            return self.pick((f"{h12}{ampm}", f"{h12} {ampm.upper()}", f"{h12}:00 {ampm.upper()}"))
        return self.pick((f"{h12}:{minute:02d}{ampm}", f"{h12}:{minute:02d} {ampm.upper()}"))

    def when(self) -> tuple[str, str, datetime, str]:
        """A future meeting time: (phrase with "on" where needed, bare phrase, start, zone label)."""
        rng, today = self.rng, self.sent.date()
        forms = ["next", "explicit_us", "explicit_uk", "explicit_wd"]
        if today.weekday() < 4:
            forms.append("tomorrow")
        if today.weekday() <= 2:
            forms.append("this")
        form = rng.choice(forms)
        zone, label = self.sender, ""
        r = rng.random()
        if r < 0.3:
            label = self.sender.tz_label
        elif r < 0.45 and self.to.offset != self.sender.offset:
            zone, label = self.to, self.to.tz_label
        hour = rng.choice((9, 10, 10, 11, 12, 13, 14, 14, 15, 15, 16))
        minute = rng.choice((0, 0, 0, 30, 30, 15, 45))
        time_text = self._time_text(hour, minute) + (f" {label}" if label else "")
        if form == "next":
            day = _monday(today) + timedelta(days=7 + rng.randrange(5))
            on = bare = f"next {_WEEKDAYS[day.weekday()]} at {time_text}"
        elif form == "this":
            day = today + timedelta(days=rng.randint(2, 4 - today.weekday()))
            on = bare = f"this {_WEEKDAYS[day.weekday()]} at {time_text}"
        elif form == "tomorrow":
            day = today + timedelta(days=1)
            part = " morning" if hour < 12 and rng.random() < 0.3 else ""
            on = bare = f"tomorrow{part} at {time_text}"
        else:
            day = _weekday_on_or_after(today + timedelta(days=rng.randint(2, 16)))
            bare = _date_text(day, form) + f" at {time_text}"
            on = "on " + bare
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone.tz)
        return on, bare, start, label or zone.tz_label

    def due(self) -> tuple[str, str]:
        """A deadline phrase starting with "by" and its ISO date or datetime."""
        rng, today = self.rng, self.sent.date()
        wd = today.weekday()
        forms = ["explicit", "next"]
        if wd < 4:
            forms += ["friday", "tomorrow_eod", "eow"]
        if wd < 3:
            forms.append("weekday_eod")
        if wd < 5 and self.sent.hour < 12:
            forms.append("today")
        form = rng.choice(forms)
        tz = self.sender.tz
        if form in ("friday", "eow"):
            day = today + timedelta(days=4 - wd)
            return ("by Friday" if form == "friday" else "by the end of the week"), day.isoformat()
        if form == "tomorrow_eod":
            day = today + timedelta(days=1)
            text = rng.choice(("by tomorrow EOD", "by end of day tomorrow", "by close of business tomorrow"))
            return text, datetime(day.year, day.month, day.day, _EOD_HOUR, tzinfo=tz).isoformat()
        if form == "weekday_eod":
            day = today + timedelta(days=rng.randint(2, 4 - wd))
            text = f"by {_WEEKDAYS[day.weekday()]} EOD"
            return text, datetime(day.year, day.month, day.day, _EOD_HOUR, tzinfo=tz).isoformat()
        if form == "today":
            hour = rng.choice((15, 16, 17))
            text = f"by {self._time_text(hour, 0)} today"
            return text, datetime(today.year, today.month, today.day, hour, tzinfo=tz).isoformat()
        if form == "next":
            day = _monday(today) + timedelta(days=7 + rng.randrange(5))
            return f"by next {_WEEKDAYS[day.weekday()]}", day.isoformat()
        day = _weekday_on_or_after(today + timedelta(days=rng.randint(3, 14)))
        text = (
            f"by {_MONTHS[day.month - 1]} {day.day}{_ordinal(day.day)}"
            if rng.random() < 0.5
            else (f"by {day.day} {_MONTHS[day.month - 1]}")
        )
        return text, day.isoformat()

    # -- activities -----------------------------------------------------------------------------

    def meeting_sentence(self, kind: str, templates: Sequence[str], **extra: Any) -> str:
        """A proposal sentence for a meeting or call; records it as the thread's pending meeting."""
        on, bare, start, label = self.when()
        sentence = self.fill(self.pick(templates), on=on, bare=bare, **extra)
        self.activities.append({"type": kind, "text": sentence, "start": start.isoformat(), "due": None})
        self.state["meeting"] = (kind, start, label)
        return sentence

    def task_sentence(self, templates: Sequence[str], **extra: Any) -> str:
        text, due = self.due()
        sentence = self.fill(self.pick(templates), due=text, **extra)
        sentence = sentence[0].upper() + sentence[1:]
        self.activities.append({"type": "task", "text": sentence, "start": None, "due": due})
        return sentence

    def confirmed_time(self) -> str:
        """The pending meeting's time, written out in full with its zone."""
        _kind, start, label = self.state["meeting"]
        style = "explicit_uk" if self.sender.clock == 24 else "explicit_wd"
        time_text = self._time_text(start.hour, start.minute)
        return f"{_date_text(start.date(), style)} at {time_text} {label}"

    def content(self, paragraphs: list[str], intent: str, sentiment: str, emotion: str) -> _Content:
        return _Content([p for p in paragraphs if p], intent, sentiment, emotion, self.activities)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _ordinal(n: int) -> str:
    if 11 <= n % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _date_text(day: date, style: str) -> str:
    wd, month = _WEEKDAYS[day.weekday()], _MONTHS[day.month - 1]
    if style == "explicit_us":
        return f"{month} {day.day}{_ordinal(day.day)}"
    if style == "explicit_uk":
        return f"{wd} {day.day} {month}"
    return f"{wd}, {month} {day.day}"


def _join(*sentences: str) -> str:
    return " ".join(s for s in sentences if s)


# --------------------------------------------------------------------------------------------
# Composers: one per kind of message, each returns the paragraphs and the labels
# --------------------------------------------------------------------------------------------


def _opener(x: _Ctx) -> str:
    """An optional first sentence that fits where the conversation stands."""
    if x.reply:
        msgs = x.thread.msgs
        if msgs[-1].sender == x.sender:
            return ""
        options = ["Thanks for your email.", "", ""]
        if len(msgs) >= 2 and msgs[-2].sender == x.sender:  # they answered me
            options += ["Thanks for getting back to me.", "Thank you for the update."]
            if x.sent - msgs[-1].sent_at < timedelta(hours=4):
                options.append("Thanks for the quick reply.")
        return x.pick(options)
    if x.sent.weekday() == 0 and x.chance(0.3):
        return "Hope you had a good weekend."
    if x.sent.weekday() == 4 and x.chance(0.3):
        return "Happy Friday!"
    return x.pick(_OPEN_FIRST)


def _c_support_question(x: _Ctx) -> _Content:
    x.state["topic"] = "howto"
    ask = x.fill(
        x.pick(
            (
                "We're setting up {feature} for our {dept} team and I couldn't find in the docs how to {howto}.",
                "Quick question about {feature}: is it possible to {howto}?",
                "I've been going through the admin guide, but I'm still not sure how to {howto} with {feature}.",
                "One of our admins asked whether there's a way to {howto} with {feature}.",
                "Is there a way to {howto} using {feature}? I couldn't see an option for it.",
            )
        )
    )
    context = x.fill(
        x.pick(
            (
                "We're on the {plan} plan, version {version}.",
                "For context, we have about {seats} agents on Beacon today.",
                "We'd like to have this in place before our busy season starts.",
                "Our previous tool did this out of the box, so the team is used to it.",
            )
        )
    )
    confused = x.chance(0.4)
    puzzle = (
        x.pick(
            (
                "I'm a bit lost: the setting mentioned in the help article doesn't appear in our admin panel.",
                "I'm confused because two of your help articles seem to say different things about this.",
                "I tried following the guide, but the screens look different from the screenshots.",
            )
        )
        if confused
        else ""
    )
    close = x.pick(
        (
            "Is this something we can configure ourselves, or does it need to be enabled on your side?",
            "If it isn't supported yet, is it on the roadmap?",
            "Any pointers would be much appreciated.",
            "A link to the right documentation would be great.",
        )
    )
    return x.content(
        [_join(_opener(x), ask, context), _join(puzzle, close)],
        "query",
        "neutral",
        "confused" if confused else "neutral",
    )


def _c_bug_report(x: _Ctx) -> _Content:
    x.state["topic"] = "bug"
    x.state["reported"] = x.sent.date()
    since = x.fill(x.pick(_SINCE))
    started = x.fill(x.pick(_STARTED))
    opening = x.fill(
        x.pick(
            (
                "Since {since}, {feature} {symptom}.",
                "We're having trouble with {feature}: it {symptom} for most of our users.",
                "I want to flag a problem: {feature} {symptom}, and it started {started}.",
                "Our agents are reporting that {feature} {symptom}. This began {started}.",
                "Something is wrong with {feature} on our workspace. It {symptom}, starting {started}.",
            )
        ),
        since=since,
        started=started,
    )
    opening = opening[0].upper() + opening[1:]
    impact = x.fill(
        x.pick(
            (
                "This is holding up our {dept} team, who rely on it every morning.",
                "It means our {dept} team is working from stale data.",
                "We have a management report due this week and can't pull the numbers.",
                "Our agents have had to fall back to spreadsheets, which isn't sustainable.",
                "Most of our {seats} agents are affected.",
                "Customers are starting to notice the delays.",
            )
        )
    )
    tried = x.fill(
        x.pick(
            (
                "We've already tried {tried}, with no change.",
                "Clearing the browser cache and signing in again didn't help.",
                "Nothing has changed on our side as far as I know.",
                "I checked your status page and it shows everything as operational.",
            )
        ),
        tried=x.pick(_TRIED),
    )
    ask = x.pick(
        (
            "Can you take a look and let me know what's going on?",
            "Could someone from your team look into this today?",
            "Please let me know what you need from us to investigate.",
            "Is this a known issue, and is there a workaround?",
            "Please advise as soon as you can.",
        )
    )
    return x.content([_join(opening, impact), _join(tried, ask)], "complaint", "negative", "dissatisfied")


def _c_complaint(x: _Ctx) -> _Content:
    """A follow-up complaint; `level` 2, 3, 4... rises in frustration."""
    days = (x.sent.date() - x.state.get("reported", x.sent.date())).days
    x.state["angry"] = True
    if x.level <= 2:
        if x.thread.msgs[-1].sender.staff:  # they did answer, but it didn't help
            options = [
                "The workaround you suggested hasn't helped, and {feature} is still failing.",
                "I'm sorry, but this is still not fixed, and waiting another week isn't an option for us.",
                "We tried everything you suggested and the problem with {feature} is still there.",
            ]
        else:
            options = [
                "Following up on my email below: we still haven't heard anything, and {feature} still isn't working.",
                "This is the second time I've had to chase this.",
                "I haven't had a reply to my message below, and the problem with {feature} is getting worse.",
            ]
        if days >= 2:
            options.append("It has now been {days} days since I reported this and the problem is still there.")
        first = x.fill(x.pick(options), days=days)
        more = x.fill(
            x.pick(
                (
                    "Our {dept} team is losing hours every day because of it.",
                    "We are now behind on our own customer commitments.",
                    "I really need to know when this will be fixed.",
                    "Please treat this as urgent.",
                )
            )
        )
        ask = x.pick(
            (
                "I would appreciate an update today.",
                "Can someone please get back to me?",
                "Could you at least confirm that someone is looking at it?",
            )
        )
        return x.content([_join(first, more, ask)], "complaint", "negative", "frustrated")
    phone = x.sender.phones[0][1] if x.sender.phones else ""
    lines = [
        "Frankly, this is not acceptable.",
        x.fill("I've now written {count} times without a real answer.", count=_COUNT_WORDS.get(x.level, "several")),
        x.fill("We are paying for {plan} support and expected a much faster response than this."),
        "I'm very disappointed with how this has been handled.",
    ]
    rng = x.rng
    rng.shuffle(lines)
    body = lines[:3]
    if x.level >= 4:
        body = [
            "Still nothing. This has gone on far too long.",
            "We are now discussing alternatives internally.",
            *body[:2],
        ]
    ask = x.pick(
        (
            "If we can't get this resolved this week, we'll have to review whether Beacon is the right tool for us.",
            "Please escalate this to someone who can actually fix it.",
            f"Call me on {phone} as soon as possible." if phone else "I expect a call from a manager today.",
            "I expect a call from a manager today.",
        )
    )
    return x.content([_join(*body), ask], "complaint", "negative", "frustrated")


_COUNT_WORDS = {3: "three", 4: "four", 5: "five"}


def _c_ask_details(x: _Ctx) -> _Content:
    qs = (
        "which browser and version you're using",
        "roughly when it last worked",
        "the exact error message you see",
        "whether it affects all users or just some",
        "your workspace ID (Settings > Account)",
        "whether you've changed any permissions recently",
    )
    q1, q2 = x.rng.sample(qs, 2)
    opening = x.fill(
        x.pick(
            (
                "Thanks for reporting this, and sorry for the disruption.",
                "Thanks for the detailed report, and apologies for the trouble.",
                "Sorry to hear {feature} is causing problems.",
                "Thank you for letting us know.",
            )
        )
    )
    ask = x.pick(
        (
            "To narrow it down, could you tell me {q1} and {q2}?",
            "Could you send me {q1}? It would also help to know {q2}.",
            "Before I escalate this to engineering, could you confirm {q1} and {q2}?",
        )
    ).format(q1=q1, q2=q2)
    close = x.fill(
        x.pick(
            (
                "I've logged this as ticket {ticket} so you can track progress.",
                "A screenshot would also help if it's easy to grab. Your reference is {ticket}.",
                "I've opened ticket {ticket} for this.",
            )
        )
    )
    return x.content([_join(opening, ask), close], "query", "neutral", "neutral")


def _c_provide_details(x: _Ctx) -> _Content:
    browser = x.pick(
        ("Chrome 126 on Windows 11", "Edge on Windows 10", "Safari 17 on macOS", "Firefox 127 on Ubuntu", "the iOS app")
    )
    scope = x.fill(
        x.pick(
            (
                "everyone in the {dept} team",
                "about a third of our agents",
                "only the users in our {city} office",
                "admins only, as far as we can tell",
            )
        )
    )
    error = x.pick(
        (
            "Error 502: Bad Gateway",
            "Request timed out (30000 ms)",
            "invalid_grant: refresh token expired",
            "Something went wrong. Please try again later. (ref 7f3a9c)",
            "403 Forbidden - insufficient scope",
        )
    )
    first = x.pick(("Sure, here you go.", "Of course.", "Thanks for looking into it.", ""))
    details = [
        f"We're using {browser} and it affects {scope}.",
        f'The exact error is "{error}".',
        f"Our workspace ID is hl-{x.rng.randint(10000, 99999)}.",
    ]
    last = x.pick(
        ("It last worked on Friday.", "It was fine until last week.", "It worked this morning, then stopped.")
    )
    attach = "I've attached an export of the failed jobs from our side." if x.attach else ""
    return x.content([_join(first, *details), _join(last, attach)], "other", "neutral", "neutral")


def _c_support_answer(x: _Ctx) -> _Content:
    if x.state.get("topic") == "howto":
        path = x.fill(
            x.pick(
                (
                    "Settings > Integrations > {Short}",
                    "Admin > Automations",
                    "Settings > Data > Exports",
                    "Admin > Security > Access rules",
                )
            )
        )
        step = x.pick(
            (
                "switch on the advanced options and pick the fields you need.",
                "add a new rule, choose the condition, and save.",
                "set the schedule to 'Custom' and choose your hours.",
                "tick 'Apply to selected teams' and pick the teams.",
            )
        )
        first = x.pick(
            (f"Good question! You can do this under {path}: {step}", f"Yes, that's possible. Go to {path}, then {step}")
        )
        slug = x.state["feature"][1].lower().replace(" ", "-")
        link = f"There's a short guide here: https://harborlight.example/help/{slug}"
        close = x.pick(
            (
                "Let me know if that does what you need.",
                "If anything doesn't look right, send me a screenshot and I'll take a look.",
                "Happy to jump on a quick screen share if that's easier.",
            )
        )
        return x.content([_join(_opener(x), first), link, close], "other", "positive", "trust")
    cause = x.fill(
        x.pick(
            (
                "a change in {version} that affected token refresh",
                "a misconfigured worker in our EU region",
                "a timeout on very large exports",
                "a certificate rotation that didn't reach every node",
                "a caching bug introduced in last week's release",
            )
        )
    )
    good_news = x.chance(0.5)
    first = (
        f"Good news: we found the problem. It was caused by {cause}."
        if good_news
        else f"Thanks for your patience. Our engineers traced this to {cause}."
    )
    if x.chance(0.55):
        fix = x.task_sentence(
            (
                "I'll send you the patched build {due}.",
                "I'll have a full root-cause report to you {due}.",
                "We'll have the fix deployed to your workspace {due}.",
                "expect the hotfix {due} at the latest.",
            )
        )
    else:
        fix = "A fix is rolling out now and should reach your workspace within the next few hours."
    workaround = x.pick(
        (
            "In the meantime, you can run the export manually from Settings > Data.",
            "In the meantime, re-connecting the integration once a day will keep it going.",
            "In the meantime, switching the schedule to hourly avoids the timeout.",
            "In the meantime, users can sign in with their password as a fallback.",
        )
    )
    close = x.fill("I'll keep ticket {ticket} open until you confirm everything is back to normal.")
    return x.content(
        [_join(first, fix), _join(workaround, close)],
        "other",
        "positive" if good_news else "neutral",
        "happy" if good_news else "trust",
    )


_MEETING_TEMPLATES = (
    "Can we meet {on} to {purpose}?",
    "Would {bare} work for a meeting to {purpose}?",
    "Are you free to meet {on}? I'd like to {purpose}.",
    "I'd like to set up a meeting {on} to {purpose}. Does that suit you?",
    "Could we get together {on} to {purpose}?",
)
_CALL_TEMPLATES = (
    "Could we have a quick call {on} to {purpose}?",
    "Are you available for a call {on}?",
    "Would a call {on} work for you?",
    "Let's jump on a call {on} to {purpose}.",
    "How about a call {on}?",
    "Can I give you a call {on} to {purpose}?",
)


def _c_apology_call(x: _Ctx) -> _Content:
    apology = x.pick(
        (
            "I'm really sorry about the experience you've had with this. It's not the level of service we aim for.",
            "Please accept my apologies for the delay in getting back to you, and for the disruption this has caused.",
            "I've read through the whole thread, and I'm sorry: we should have responded much sooner.",
        )
    )
    owner = x.fill(
        x.pick(
            (
                "I lead our support team, and I've taken ownership of ticket {ticket} personally.",
                "Ticket {ticket} is now our top priority and an engineer has been assigned to it full-time.",
                "Our engineering lead is on it, and we'll send you an update every day until it's resolved.",
            )
        )
    )
    call = x.meeting_sentence(
        "call", _CALL_TEMPLATES, purpose="walk you through what happened and what we're doing about it"
    )
    close = "If that time doesn't suit, just suggest another."
    return x.content([_join(apology, owner), _join(call, close)], "request", "neutral", "trust")


def _c_confirm(x: _Ctx) -> _Content:
    kind, start, _label = x.state["meeting"]
    if start <= x.sent + timedelta(hours=2):
        return _c_reschedule(x)
    when = x.confirmed_time()
    sentence = x.pick(
        (
            "{when} works for me. I've sent over a calendar invite.",
            "Confirmed: {when}. I'll send a Teams link shortly.",
            "Perfect, let's go with {when}. Talk then!",
            "Great, {when} it is. It's in my calendar.",
            "That works. See you on {when}.",
        )
    ).format(when=when)
    sentence = sentence[0].upper() + sentence[1:]
    x.activities.append({"type": kind, "text": sentence, "start": start.isoformat(), "due": None})
    extra = x.pick(
        (
            "I'll bring our team lead along as well.",
            "I'll share a short agenda beforehand.",
            "Looking forward to it.",
            f"The best number to reach me on is {x.sender.phones[0][1]}." if x.sender.phones else "",
        )
    )
    happy = not x.state.get("angry") and x.chance(0.6)
    return x.content(
        [_join(_opener(x) if happy else "", sentence, extra)],
        "other",
        "positive" if happy else "neutral",
        "happy" if happy else "neutral",
    )


def _c_reschedule(x: _Ctx) -> _Content:
    kind = x.state["meeting"][0] if x.state.get("meeting") else "meeting"
    first = x.pick(
        (
            "Apologies, something has come up at that time.",
            "Sorry, I've just been pulled into an all-day workshop and can't make that slot.",
            "Unfortunately I now have a clash.",
            "Sorry I didn't get back to you sooner.",
        )
    )
    templates = (
        "Could we move it to {on} instead?",
        "Would {bare} work instead?",
        "Can we do {on} instead?",
    )
    ask = x.meeting_sentence(kind, templates)
    return x.content([_join(first, ask, "Sorry for the shuffle.")], "request", "neutral", "neutral")


def _c_meeting_proposal(x: _Ctx) -> _Content:
    purpose = x.pick(_PURPOSES)
    ask = x.meeting_sentence("meeting", _MEETING_TEMPLATES, purpose=purpose)
    extra = x.fill(
        x.pick(
            (
                "We'll be in {city} that week, so we could come to your office.",
                "A video call is fine too if that's easier.",
                "It should take about 45 minutes.",
                "Two people from our {dept} team will join as well.",
            )
        ),
        city=x.to.city or "Bristol",
    )
    keen = x.chance(0.35)
    lead = "We're excited about the next phase and want to get it right." if keen else ""
    return x.content(
        [_join(_opener(x), lead), _join(ask, extra)],
        "request",
        "positive" if keen else "neutral",
        "enthusiastic" if keen else "neutral",
    )


def _c_call_proposal(x: _Ctx) -> _Content:
    purpose = x.pick(_PURPOSES)
    ask = x.meeting_sentence("call", _CALL_TEMPLATES, purpose=purpose)
    extra = x.pick(
        (
            "It shouldn't take more than 30 minutes.",
            "I'll send a dial-in once we've agreed a time.",
            "If another time suits you better, just let me know.",
        )
    )
    return x.content([_join(_opener(x), ask, extra)], "request", "neutral", "neutral")


def _c_resolution(x: _Ctx) -> _Content:
    first = x.fill(
        x.pick(
            (
                "Good news: the fix for {feature} went live this morning, and your workspace looks healthy again.",
                "Quick update: the fix for {feature} was deployed last night and the error rate is back to zero.",
                "The patch for {feature} is now live for all customers.",
            )
        )
    )
    close = x.fill(
        x.pick(
            (
                "I'll keep ticket {ticket} open for a few more days in case anything else comes up.",
                "Please let me know if you see anything unusual.",
                "Thanks again for your patience, and for the detailed information, which helped a lot.",
            )
        )
    )
    return x.content([_join(first, close)], "other", "positive", "happy")


def _c_thanks(x: _Ctx) -> _Content:
    if x.sender.staff:
        first = x.pick(("Got it, thank you!", "Perfect, thanks for sending this over.", "Received, many thanks."))
        return x.content([first], "other", "positive", "grateful")
    first = x.pick(
        (
            "Thanks so much, that did the trick!",
            "Perfect, that's exactly what I needed.",
            "Really appreciate the quick turnaround.",
            "Thank you! Everything is working again.",
            "Brilliant, thanks for your help.",
            "Many thanks for sorting this out so quickly.",
        )
    )
    more = [
        "The team is back up and running.",
        "I'll let the rest of the team know.",
        "You've saved us a lot of manual work.",
        "",
    ]
    if x.sent.weekday() == 4:
        more.append("Have a great weekend!")
    return x.content([_join(first, x.pick(more))], "other", "positive", "grateful")


def _c_praise(x: _Ctx) -> _Content:
    first = x.pick(
        (
            "I just wanted to say a big thank you to you and the team.",
            "Quick note to say how happy we are with Beacon so far.",
            "I don't usually write emails like this, but I wanted to pass on some feedback.",
        )
    )
    detail = x.fill(
        x.pick(
            (
                "We rolled out {feature} to the whole {dept} team last month and the feedback has been fantastic.",
                "Our first-response times are down by {pct}% since we switched.",
                "The onboarding sessions were excellent, and the team picked it up really quickly.",
                "Your support team has been consistently quick and helpful.",
            )
        )
    )
    close = x.pick(
        (
            "Happy to act as a reference customer if that's ever useful.",
            "Keep up the great work!",
            "Looking forward to what's coming next on the roadmap.",
        )
    )
    return x.content([_join(first, detail), close], "other", "positive", x.pick(("enthusiastic", "happy")))


def _c_thanks_reply(x: _Ctx) -> _Content:
    first = x.fill(
        x.pick(
            (
                "Thank you for the kind words, {their}! I've shared them with the team.",
                "That really made our day. Thanks for taking the time to write.",
                "Thanks so much for this. It means a lot to the team.",
            )
        )
    )
    more = x.fill(
        x.pick(
            (
                "We'd love to feature {company} in a short case study. No pressure, just let me know if you're keen.",
                "Glad to hear the rollout went so smoothly.",
                "We'll keep the improvements coming.",
            )
        )
    )
    return x.content([_join(first, more)], "other", "positive", "grateful")


def _c_purchase_inquiry(x: _Ctx) -> _Content:
    x.state["topic"] = "sales"
    keen = x.chance(0.45)
    if keen:
        first = x.fill(
            x.pick(
                (
                    "We saw your demo at the {event} and were really impressed.",
                    "A colleague at another company recommended Beacon, and we'd love to find out more.",
                )
            ),
            event=x.pick(_EVENTS),
        )
    else:
        first = x.fill(
            x.pick(
                (
                    "We're evaluating helpdesk tools for our {dept} team ({seats} agents), and Beacon is shortlisted.",
                    "I'm looking for pricing for Beacon for our {dept} team.",
                    "We're planning to replace our current ticketing system later this year.",
                )
            )
        )
    ask = x.fill(
        x.pick(
            (
                "Could you send me pricing for the {plan} plan for {seats} seats, billed annually?",
                "What would {seats} licences on the {plan} plan cost per year?",
                "Could you put together a quote for {seats} {plan} seats?",
                "How much would {seats} {plan} licences be, and do you offer discounts for multi-year commitments?",
            )
        )
    )
    req = x.fill(
        x.pick(
            (
                "We'd also need {feature} and {req}. Are those included, or are they add-ons?",
                "Is {req} available on the {plan} plan?",
                "One hard requirement for us is {req}.",
            )
        )
    )
    paragraphs = [_join(_opener(x), first), _join(ask, req)]
    if x.chance(0.35):
        paragraphs.append(
            x.task_sentence(
                ("ideally we'd like to have a quote {due}, as {reason}.", "could you send it over {due}? {Reason}."),
                reason=x.pick(_REASONS),
                Reason=_cap(x.pick(_REASONS)),
            )
        )
    return x.content(
        paragraphs,
        "purchase_inquiry",
        "positive" if keen else "neutral",
        "enthusiastic" if keen else "neutral",
    )


def _money(actor: _Actor, amount: int) -> str:
    symbol = {"EUR": "€", "USD": "$", "CHF": "CHF "}[actor.currency]
    return f"{symbol}{amount:,}"


def _c_quote_reply(x: _Ctx) -> _Content:
    plan, seats = x.state["plan"], x.state["seats"]
    customer = x.thread.customer
    unit = _PRICES[plan] + (3 if customer.currency == "CHF" else 0)
    first = x.fill(
        x.pick(
            (
                "Thanks for your interest in Beacon, {their}!",
                "Great to hear from you, and thanks for considering Beacon.",
                "Thanks for reaching out!",
            )
        )
    )
    price = (
        f"For {seats} seats on the {plan} plan, the list price is {_money(customer, unit)} per seat per month, "
        f"billed annually, which comes to {_money(customer, unit * seats * 12)} a year."
    )
    features = x.fill(
        x.pick(
            (
                "{Req} is included in {plan}.",
                "{Short} is included in every plan, and {req} is available as an add-on.",
                "Everything you mentioned is covered by {plan}, including {req}.",
            )
        ),
        Req=x.state["req"][0].upper() + x.state["req"][1:],
    )
    paragraphs = [first, _join(price, features)]
    if x.chance(0.7):
        paragraphs.append(
            x.meeting_sentence(
                "call",
                (
                    "Would you be free for a call {on} so I can walk you through the options?",
                    "I'd be happy to set up a short call {on} to answer any questions.",
                    "Could we have a quick call {on} to {purpose}?",
                ),
                purpose="go through your requirements",
            )
        )
        return x.content(paragraphs, "request", "positive", "enthusiastic")
    paragraphs.append("Let me know if you have any questions.")
    return x.content(paragraphs, "other", "positive", "enthusiastic")


def _c_send_quote(x: _Ctx) -> _Content:
    if x.attach:
        first = x.fill("As promised, please find attached quote {quote} for {seats} {plan} licences.")
    else:
        code = f"{x.rng.randrange(16**8):08x}"
        first = x.fill("You can review and accept quote {quote} for {seats} {plan} licences here: ") + (
            f"https://harborlight.example/q/{code}"
        )
    more = x.pick(
        (
            "The quote is valid for 30 days.",
            "I've included onboarding and two training sessions at no extra cost.",
            "Pricing is fixed for the full term.",
        )
    )
    close = "Let me know if you'd like me to adjust anything."
    return x.content([_join(_opener(x), first), _join(more, close)], "other", "neutral", "neutral")


_FOLLOWUPS = {
    "term": (
        "Before we sign, is there any flexibility on price for a three-year term?",
        "Yes, for a three-year term we can offer {disc}% off the list price.",
    ),
    "extra": (
        "Could you add {extra} more licences for our {city} office?",
        "Adding {extra} licences is no problem, at the same per-seat price.",
    ),
    "onboarding": (
        "Does the price include onboarding and training?",
        "Yes: onboarding and two training sessions are included at no extra cost.",
    ),
    "upgrade": (
        "Can we start on {plan} and upgrade to Enterprise mid-term?",
        "Upgrading mid-term is no problem; we simply pro-rate the difference.",
    ),
}


def _c_purchase_followup(x: _Ctx) -> _Content:
    if x.chance(0.25):
        x.state["followup"] = "confused"
        first = x.fill(
            "I'm a little confused by the quote: it lists {seats} seats, but I thought we'd discussed adding {extra} "
            "more for our {city} office."
        )
        ask = "Could you check which number is right and whether the per-seat price changes?"
        return x.content([_join(first, ask)], "purchase_inquiry", "neutral", "confused")
    first = x.pick(("Thanks for the quote, it looks good.", "Thanks, we've reviewed the quote internally."))
    x.state["followup"] = x.pick(tuple(_FOLLOWUPS))
    ask = x.fill(_FOLLOWUPS[x.state["followup"]][0])
    positive = first.endswith("good.")
    return x.content(
        [_join(first, ask)],
        "purchase_inquiry",
        "positive" if positive else "neutral",
        "happy" if positive else "neutral",
    )


def _c_terms_reply(x: _Ctx) -> _Content:
    if x.state.get("followup") == "confused":
        first = x.fill(
            "Sorry for the confusion, you're right: it should include the {extra} extra seats for {city}. "
            "The per-seat price stays the same."
        )
    else:
        first = x.fill(_FOLLOWUPS[x.state.get("followup") or "term"][1], disc=x.pick(("10", "12", "15")))
    paragraphs = [first]
    if x.chance(0.6):
        paragraphs.append(
            x.task_sentence(("I'll send the revised quote {due}.", "you'll have the updated order form {due}."))
        )
    return x.content(paragraphs, "other", "positive", "trust")


def _c_accept(x: _Ctx) -> _Content:
    first = x.fill(
        x.pick(
            (
                "Great news: we've got approval to go ahead with the {plan} plan.",
                "We're happy to proceed!",
                "The budget has been signed off, so we're good to go.",
            )
        )
    )
    po = x.fill(x.pick(("Our PO number is {po}.", "Procurement will send {po} separately.")))
    ask = x.task_sentence(
        (
            "could you send the order form for signature {due}?",
            "please send the contract over {due} so we can start next month.",
        )
    )
    return x.content([_join(first, po), ask], "request", "positive", x.pick(("enthusiastic", "happy")))


def _c_request_doc(x: _Ctx) -> _Content:
    doc = x.state["doc"]
    ask = x.task_sentence(
        (
            "could you send {doc} {due}?",
            "please send over {doc} {due}, as {reason}.",
            "can you get {doc} to me {due}? {Reason}.",
            "would it be possible to have {doc} {due}?",
            "we need {doc} {due}, as {reason}.",
        ),
        doc=doc,
        reason=x.pick(_REASONS),
        Reason=_cap(x.pick(_REASONS)),
    )
    close = x.pick(("Thanks in advance.", "Let me know if anything is unclear.", "Much appreciated.", ""))
    return x.content([_join(_opener(x), ask), close], "request", "neutral", "neutral")


def _c_send_doc(x: _Ctx) -> _Content:
    doc = x.state["doc"]
    if x.attach:
        first = x.pick(("Please find {doc} attached.", "Attached is {doc}, as requested.")).format(doc=doc)
    else:
        code = f"{x.rng.randrange(16**10):010x}"
        first = x.pick(
            (
                "Here's {doc}: https://files.{domain}/s/{code}",
                "I've uploaded {doc} to the shared folder: https://files.{domain}/s/{code}",
            )
        ).format(doc=doc, domain=x.sender.domain, code=code)
    close = x.pick(
        (
            "Let me know if you need it in a different format.",
            "Shout if anything else is missing.",
            "Sorry it took a little longer than planned.",
        )
    )
    return x.content([_join(_opener(x), first), close], "other", "neutral", "neutral")


_FYI = (
    ("Office closure on {date}", "Just a heads-up that our office will be closed on {date} for a public holiday, "
     "so replies from our side may be slow."),
    ("Change of admin contact", "FYI, {colleague} is taking over as our main Beacon admin from next month. "
     "Please copy them on anything related to billing or user management."),
    ("New billing address", "For your records, our billing address has changed to {address}."),
    ("Heads-up: email migration this weekend", "We'll be migrating our email servers this weekend, so you may "
     "see a short gap in tickets coming in from us."),
    ("Beacon rollout in {city}", "Quick update: we've finished rolling Beacon out to our {city} office, so you'll "
     "see {extra} new users appear this week."),
)  # fmt: skip


def _c_fyi(x: _Ctx) -> _Content:
    text = x.fill(
        x.state["fyi"][1],
        date=x.state["fyi_date"],
        colleague=x.state["colleague"],
        address=x.thread.customer.address or "",
    )
    close = x.pick(("No action needed on your side.", "Thanks!", "Just wanted to keep you in the loop."))
    return x.content([_join(_opener(x), text), close], "other", "neutral", "neutral")


def _c_maintenance(x: _Ctx) -> _Content:
    first = x.fill(
        "We'll be carrying out scheduled maintenance on {date} between 01:00 and 03:00 UTC.", date=x.state["fyi_date"]
    )
    more = "Beacon may be unavailable for up to 15 minutes during that window."
    close = "No action is needed on your side. Live updates: https://status.harborlight.example"
    return x.content([_join(_opener(x), first, more), close], "other", "neutral", "neutral")


def _c_nudge(x: _Ctx) -> _Content:
    if x.state.get("topic") == "sales":
        first = x.pick(
            (
                "Just following up on my pricing request below.",
                "I wanted to check whether you'd had a chance to look at my enquiry below.",
            )
        )
        more = x.pick(("We're hoping to shortlist vendors by the end of the month.", "We have budget approved for Q3."))
        return x.content([_join(first, more)], "purchase_inquiry", "neutral", "neutral")
    first = x.pick(
        (
            "Just checking whether you saw my email below?",
            "Any update on this?",
            "Bumping this up your inbox. Could you let me know?",
            "Following up on my question below.",
        )
    )
    more = x.pick(("We're still stuck on this.", "Thanks!", ""))
    return x.content([_join(first, more)], "query", "neutral", "confused" if "stuck" in more else "neutral")


def _c_checkin(x: _Ctx) -> _Content:
    first = x.fill(
        x.pick(
            (
                "It's been a few weeks since you went live with {feature}, and I wanted to check in.",
                "I hope the rollout is going well!",
                "I'm your new customer success contact at Harborlight, and I wanted to introduce myself.",
            )
        )
    )
    if x.chance(0.5):
        call = x.meeting_sentence(
            "call",
            (
                "If it's useful, could we do a quick call {on} to review your setup?",
                "Would you have 30 minutes for a call {on}?",
            ),
        )
        return x.content([_join(_opener(x), first), call], "request", "positive", "happy")
    ask = x.pick(
        (
            "How is the team getting on so far?",
            "Is there anything we could be doing better?",
            "Are there any features you'd like to see us prioritise?",
        )
    )
    return x.content([_join(_opener(x), first), ask], "query", "neutral", "neutral")


def _c_checkin_reply(x: _Ctx) -> _Content:
    r = x.rng.random()
    if r < 0.5:
        first = x.pick(
            ("Things are going really well, thanks for checking in!", "Overall the team is very happy with it.")
        )
        more = x.fill(
            x.pick(("{Short} in particular is saving us a lot of time.", "Adoption is already at about {adoption}%."))
        )
        return x.content([_join(first, more)], "other", "positive", "happy")
    if r < 0.8:
        first = x.fill(
            x.pick(
                (
                    "It's going OK; we're still getting used to the new workflows.",
                    "Mostly fine. The team is still learning where everything is.",
                )
            )
        )
        return x.content([_join(first, "I'll let you know if we need anything.")], "other", "neutral", "neutral")
    first = x.fill("Mostly good, although {feature} still feels clunky for our agents.")
    more = "Some of them have gone back to doing things manually, which is a shame."
    return x.content([_join(first, more)], "other", "negative", "dissatisfied")


def _c_renewal_notice(x: _Ctx) -> _Content:
    first = x.fill(
        "Your Beacon {plan} subscription ({seats} seats) is due to renew on {renew}.", renew=x.state["renew_date"]
    )
    ask = x.task_sentence(
        (
            "could you confirm {due} whether you'd like to keep the same number of seats?",
            "please let me know {due} if anything should change for next year.",
        )
    )
    return x.content([_join(_opener(x), first), ask], "request", "neutral", "neutral")


def _c_renewal_question(x: _Ctx) -> _Content:
    first = x.fill(x.pick(("We'd like to renew, but we need {extra} extra seats.", "We're planning to renew.")))
    asks = ["Could you send an updated quote that includes {req}?", "Is there a discount if we commit for two years?"]
    if x.state["plan"] != "Enterprise":
        asks.append("What would it cost to move up to the Enterprise plan?")
    return x.content([_join(first, x.fill(x.pick(asks)))], "purchase_inquiry", "neutral", "trust")


def _c_forward_in(x: _Ctx) -> _Content:
    first = x.fill(
        x.pick(
            (
                "Forwarding this from our finance team: they can't match invoice {inv} to a purchase order and are "
                "a bit confused about which entity it was issued to.",
                "Please see below from our accounts payable team. I'm not sure what they need either, to be honest.",
            )
        )
    )
    ask = x.task_sentence(
        ("could you send a corrected copy with {po} on it {due}?", "could you reissue the invoice {due}?")
    )
    return x.content([_join(_opener(x), first), ask], "request", "neutral", "confused")


def _c_forward_out(x: _Ctx) -> _Content:
    first = x.fill(
        "{colleague} mentioned that you'll be leading the rollout on your side, so I'm forwarding the onboarding "
        "plan I shared last week.",
        colleague=x.state["colleague"],
    )
    more = "The timings are only a suggestion, so feel free to move things around."
    return x.content([_join(_opener(x), first), more], "other", "neutral", "neutral")


_COMPOSERS: dict[str, Callable[[_Ctx], _Content]] = {
    "support_question": _c_support_question,
    "bug_report": _c_bug_report,
    "complaint": _c_complaint,
    "ask_details": _c_ask_details,
    "provide_details": _c_provide_details,
    "support_answer": _c_support_answer,
    "apology_call": _c_apology_call,
    "confirm": _c_confirm,
    "reschedule": _c_reschedule,
    "meeting_proposal": _c_meeting_proposal,
    "call_proposal": _c_call_proposal,
    "resolution": _c_resolution,
    "thanks": _c_thanks,
    "praise": _c_praise,
    "thanks_reply": _c_thanks_reply,
    "purchase_inquiry": _c_purchase_inquiry,
    "quote_reply": _c_quote_reply,
    "send_quote": _c_send_quote,
    "purchase_followup": _c_purchase_followup,
    "terms_reply": _c_terms_reply,
    "accept": _c_accept,
    "request_doc": _c_request_doc,
    "send_doc": _c_send_doc,
    "fyi": _c_fyi,
    "maintenance": _c_maintenance,
    "nudge": _c_nudge,
    "checkin": _c_checkin,
    "checkin_reply": _c_checkin_reply,
    "renewal_notice": _c_renewal_notice,
    "renewal_question": _c_renewal_question,
    "forward_in": _c_forward_in,
    "forward_out": _c_forward_out,
}

# --------------------------------------------------------------------------------------------
# Greetings, signatures and quotes
# --------------------------------------------------------------------------------------------


def _greeting(x: _Ctx, curt: bool) -> str:
    if curt:
        return x.pick(("Hello,", "{name},", "Hi {name},")).format(name=x.to.first) if x.to.first else "Hello,"
    if x.to.team:
        return x.pick(_GREET_SALES if x.to.key == "sales" else _GREET_TEAM)
    part = "morning" if x.sent.hour < 12 else "afternoon" if x.sent.hour < 17 else "evening"
    return x.pick(_GREET_PERSON).format(name=x.to.first, part=part)


def _empty_signature(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": None,
        "company": None,
        "phones": [],
        "emails": [],
        "websites": [],
        "address": None,
        "social": [],
    }


def _signature(x: _Ctx, mode: str, curt: bool) -> tuple[str, dict[str, Any] | None]:
    """The sign-off and signature block, and the fields it shows; `mode` is full, short or mobile."""
    a = x.sender
    if a.staff:
        signoffs, block, fields = _STAFF_SIGNATURES[a.key]
        return f"{x.pick(signoffs)}\n{block}", {**_empty_signature(a.name), **fields}
    signoff = x.pick(("Regards,", "Thanks,")) if curt else x.pick(_SIGNOFFS)
    if mode == "mobile":
        if x.chance(0.4):
            return "Sent from my iPhone", None
        return f"{signoff}\n{a.first}\n\nSent from my iPhone", _empty_signature(a.first)
    if mode == "short" or a.sig_style == "name_only":
        name = a.first if mode == "short" else a.name
        return f"{signoff}\n{name}", _empty_signature(name)
    sig = _empty_signature(a.name)
    phones = [f"{label} {number}" for label, number, _ in a.phones]
    sig["phones"] = [e164 for _, _, e164 in a.phones]
    style = a.sig_style
    if style == "pipe":
        lines = [a.name, f"{a.title} | {a.company}"]
        if phones:
            lines.append(" | ".join(phones))
        lines.append(a.website or "")
        sig.update(title=a.title, company=a.company, websites=[a.website])
        text = f"{signoff}\n" + "\n".join(lines)
    elif style == "dashdash":
        lines = ["-- ", a.name, a.title, a.company, *phones, a.email, a.website or ""]
        if a.linkedin:
            lines.append(a.linkedin)
            sig["social"] = [a.linkedin]
        sig.update(title=a.title, company=a.company, emails=[a.email], websites=[a.website])
        text = f"{signoff}\n{a.first}\n\n" + "\n".join(lines)
    elif style == "address":
        lines = [a.name, a.title, a.company, a.address or "", " | ".join(phones)]
        if a.linkedin:
            lines.append(a.linkedin)
            sig["social"] = [a.linkedin]
        sig.update(title=a.title, company=a.company, address=a.address)
        text = f"{signoff}\n" + "\n".join(lines)
    elif style == "linkedin":
        lines = [a.name, f"{a.title}, {a.company}", *phones, a.linkedin or ""]
        sig.update(title=a.title, company=a.company, social=[a.linkedin])
        text = f"{signoff}\n" + "\n".join(lines)
    elif style == "name_title":
        sig.update(title=a.title, company=a.company)
        text = f"{signoff}\n{a.name}\n{a.title}, {a.company}"
    elif style == "formal":
        lines = [a.name, a.title, a.company, a.address or "", *phones, a.website or ""]
        sig.update(title=a.title, company=a.company, address=a.address, websites=[a.website])
        text = "Freundliche Grüsse / Kind regards\n\n" + "\n".join(lines)
    elif style == "japan":
        rule = "━" * 28
        lines = [rule, a.company, a.title, a.name, a.address or "", " / ".join(phones), f"E-mail: {a.email}", rule]
        sig.update(title=a.title, company=a.company, address=a.address, emails=[a.email])
        text = f"{signoff}\n{a.first}\n\n" + "\n".join(lines)
    else:  # pragma: no cover - every style above is used by a contact
        raise ValueError(style)
    return text, sig


def _clock_text(dt: datetime, twelve: bool) -> str:
    if twelve:
        return f"{dt.hour % 12 or 12}:{dt.minute:02d} {'AM' if dt.hour < 12 else 'PM'}"
    return f"{dt.hour:02d}:{dt.minute:02d}"


def _addr_text(a: _Actor) -> str:
    return f"{a.display or a.name} <{a.email}>"


def _quote(replier: _Actor, mobile: bool, prev: _Draft) -> str:
    """The previous message quoted the way the replier's mail client does it."""
    when = prev.sent_at.astimezone(replier.tz)
    wd, mon = _WEEKDAYS[when.weekday()], _MONTHS[when.month - 1]
    prev_body = prev.body.rstrip("\n")
    style = "apple" if mobile else replier.client
    if style in ("outlook", "outlook_legacy"):
        to = "; ".join(_addr_text(a) for a in prev.to)
        if style == "outlook":
            block = [
                "________________________________",
                f"From: {_addr_text(prev.sender)}",
                f"Sent: {wd}, {mon} {when.day}, {when.year} {_clock_text(when, True)}",
                f"To: {to}",
            ]
        else:
            block = [
                "-----Original Message-----",
                f"From: {prev.sender.display or prev.sender.name} [mailto:{prev.sender.email}]",
                f"Sent: {when.day:02d} {mon} {when.year} {_clock_text(when, False)}",
                f"To: {to}",
            ]
        if prev.cc:
            block.append("Cc: " + "; ".join(_addr_text(a) for a in prev.cc))
        block.append(f"Subject: {prev.subject}")
        return "\n".join(block) + "\n\n" + prev_body
    quoted = "\n".join("> " + line if line else ">" for line in prev_body.split("\n"))
    if style == "gmail":
        stamp = f"{wd[:3]}, {mon[:3]} {when.day}, {when.year} at {_clock_text(when, True)}"
        head = f"On {stamp} {_addr_text(prev.sender)} wrote:"
    elif style == "apple":
        if replier.offset < 0:
            head = (
                f"On {mon[:3]} {when.day}, {when.year}, at {_clock_text(when, True)}, {_addr_text(prev.sender)} wrote:"
            )
        else:
            head = (
                f"On {when.day} {mon[:3]} {when.year}, at {_clock_text(when, False)}, {_addr_text(prev.sender)} wrote:"
            )
        return head + "\n\n" + quoted
    else:  # thunderbird
        head = f"On {when.day:02d}/{when.month:02d}/{when.year} {_clock_text(when, False)}, {prev.sender.name} wrote:"
    return head + "\n" + quoted


def _forward_block(forwarder: _Actor, original: tuple[_Actor | str, str, datetime, str, str]) -> str:
    """A forwarded message under the forwarder's note: (from, to, date, subject, body)."""
    sender, to, when, subject, body = original
    sender_text = sender if isinstance(sender, str) else _addr_text(sender)
    when = when.astimezone(forwarder.tz)
    wd, mon = _WEEKDAYS[when.weekday()], _MONTHS[when.month - 1]
    if forwarder.client == "apple":
        head = [
            "Begin forwarded message:",
            "",
            f"From: {sender_text}",
            f"Subject: {subject}",
            f"Date: {when.day} {mon} {when.year} at {_clock_text(when, False)}:00 {_offset_text(when)}",
            f"To: {to}",
        ]
    else:
        head = [
            "---------- Forwarded message ---------",
            f"From: {sender_text}",
            f"Date: {wd[:3]}, {mon[:3]} {when.day}, {when.year} at {_clock_text(when, True)}",
            f"Subject: {subject}",
            f"To: {to}",
        ]
    return "\n".join(head) + "\n\n" + body


def _offset_text(dt: datetime) -> str:
    return format_datetime(dt)[-5:]


# --------------------------------------------------------------------------------------------
# Threads and scenarios
# --------------------------------------------------------------------------------------------


def _is_working(t: datetime) -> bool:
    return t.weekday() < 5 and 8 <= t.hour < 19


def _next_morning(rng: random.Random, t: datetime) -> datetime:
    day = t.date()
    if t.hour >= 8 or day.weekday() >= 5:
        day += timedelta(days=1)
    day = _weekday_on_or_after(day)
    return datetime(day.year, day.month, day.day, 8, tzinfo=t.tzinfo) + timedelta(
        minutes=rng.randint(0, 240), seconds=rng.randint(0, 59)
    )


def _reply_time(rng: random.Random, prev: datetime, actor: _Actor, pace: str) -> datetime:
    """When `actor` answers a message sent at `prev`: minutes to days later, mostly in office hours."""
    r = rng.random()
    if pace == "fast":
        minutes = rng.randint(4, 50) if r < 0.6 else rng.randint(60, 300)
    elif pace == "slow":
        minutes = rng.randint(36 * 60, 4 * 1440)
    elif pace == "nudge":
        minutes = rng.randint(2 * 1440, 6 * 1440)
    elif pace == "hours":
        minutes = rng.randint(3 * 60, 30 * 60)
    elif r < 0.25:
        minutes = rng.randint(5, 55)
    elif r < 0.6:
        minutes = rng.randint(60, 420)
    elif r < 0.88:
        minutes = rng.randint(15 * 60, 30 * 60)
    else:
        minutes = rng.randint(2 * 1440, 4 * 1440)
    t = (prev + timedelta(minutes=minutes, seconds=rng.randint(0, 59))).astimezone(actor.tz)
    if not _is_working(t) and rng.random() < 0.8:
        t = _next_morning(rng, t)
    return t


def _start_time(rng: random.Random, day: date, actor: _Actor) -> datetime:
    r = rng.random()
    if r < 0.86:
        minute = rng.randint(8 * 60 + 20, 18 * 60)
    elif r < 0.96:
        minute = rng.randint(18 * 60 + 30, 23 * 60)
    else:
        minute = rng.randint(6 * 60, 7 * 60 + 50)
    saturday = day - timedelta(days=day.weekday() + 2)  # the weekend before
    if rng.random() < 0.04 and saturday >= _FIRST_DAY:
        day = saturday
    return datetime(day.year, day.month, day.day, tzinfo=actor.tz) + timedelta(
        minutes=minute, seconds=rng.randint(0, 59)
    )


class _Generator:
    """Holds the random stream and the running counters while threads are written."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.drafts: list[_Draft] = []
        self.subjects: set[str] = set()
        self.message_ids: set[str] = set()

    def message_id(self, sender: _Actor, mobile: bool) -> str:
        rng = self.rng
        while True:
            client = "apple" if mobile else sender.client
            if sender.key == "priya":
                mid = f"<hl-{rng.randrange(16**12):012x}.{len(self.drafts):04d}@helpdesk.harborlight.example>"
            elif client == "gmail":
                alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+_-"
                tail = "".join(rng.choice(alphabet) for _ in range(44))
                mid = f"<CA{tail}@mail.gmail.com>"
            elif client.startswith("outlook"):
                host = f"{sender.outlook_host}MB{rng.randint(1000, 9999)}"
                region = _OUTLOOK_REGIONS[sender.outlook_host]
                mid = f"<{host}{rng.randrange(16**16):016X}@{host}.{region}.prod.outlook.com>"
            else:
                u = f"{rng.randrange(16**32):032X}"
                uuid = f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}"
                mid = f"<{uuid if client == 'apple' else uuid.lower()}@{sender.domain}>"
            if mid not in self.message_ids:
                self.message_ids.add(mid)
                return mid

    def unique_subject(self, subject: str, customer: _Actor, ticket: str) -> str:
        for candidate in (subject, f"{subject} - {customer.company_short}", f"{subject} ({ticket})"):
            if candidate.lower() not in self.subjects:
                self.subjects.add(candidate.lower())
                return candidate
        n = 2
        while f"{subject} ({n})".lower() in self.subjects:
            n += 1
        self.subjects.add(f"{subject} ({n})".lower())
        return f"{subject} ({n})"


class _Thread:
    """One conversation: posts messages in turn, each a reply to the one before."""

    def __init__(
        self, gen: _Generator, key: str, customer: _Actor, staff: _Actor, first_to: _Actor, start_day: date
    ) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.key = key
        self.customer = customer
        self.staff = staff
        self.first_to = first_to
        self.start_day = start_day
        self.subject = ""
        self.msgs: list[_Draft] = []
        self.closed = False
        self.state = _new_state(self.rng, customer)

    def post(
        self,
        side: str,
        kind: str,
        *,
        sender: _Actor | None = None,
        to: tuple[_Actor, ...] | None = None,
        cc: tuple[_Actor, ...] = (),
        pace: str = "normal",
        level: int = 0,
        attach: tuple[str, str, bytes] | None = None,
        forward: tuple[Any, ...] | None = None,
    ) -> _Draft | None:
        if self.closed:
            return None
        rng = self.rng
        prev = self.msgs[-1] if self.msgs else None
        sender = sender or (self.customer if side == "c" else self.staff)
        if to is None:
            if prev is None:
                to = (self.first_to,)
            elif prev.sender == sender:  # a nudge on one's own message goes to the same people
                to, cc = prev.to, cc or prev.cc
            else:
                to = (prev.sender,)
        if prev is None:
            sent = _start_time(rng, self.start_day, sender)
        else:
            sent = _reply_time(rng, prev.sent_at, sender, pace)
        if sent.date() > _LAST_DAY:
            self.closed = True
            return None
        mobile = not sender.staff and sender.mobile and prev is not None and rng.random() < 0.35
        x = _Ctx(self, sender, to[0], sent, level, attach is not None)
        content = _COMPOSERS[kind](x)
        curt = content.emotion == "frustrated"
        parts = [_greeting(x, curt), *content.paragraphs]
        mode = "mobile" if mobile else "full" if (prev is None or rng.random() < 0.5) else "short"
        sig_text, signature = _signature(x, mode, curt)
        new_text = "\n\n".join(parts) + "\n\n" + sig_text
        if sender.disclaimer and not mobile:
            new_text += "\n\n" + sender.disclaimer
        references: tuple[str, ...] = ()
        if prev is None:
            subject = self.subject
            quote_text = _forward_block(sender, forward) if forward else ""
            in_reply_to = None
        else:
            prefix = "RE: " if sender.client.startswith("outlook") and not mobile else "Re: "
            subject = prefix + self.subject
            quote_text = _quote(sender, mobile, prev)
            if sender.drops_refs and rng.random() < 0.3:
                in_reply_to, references = None, ()
            else:
                in_reply_to, references = prev.message_id, (*prev.references, prev.message_id)
        html_part = not mobile and (
            (sender.client == "gmail" and rng.random() < 0.08) or (sender.client == "outlook" and rng.random() < 0.05)
        )
        draft = _Draft(
            seq=len(self.gen.drafts),
            thread_key=self.key,
            sender=sender,
            to=to,
            cc=cc,
            sent_at=sent,
            subject=subject,
            message_id=self.gen.message_id(sender, mobile),
            in_reply_to=in_reply_to,
            references=references,
            content=content,
            new_text=new_text,
            quote_text=quote_text,
            signature=signature,
            mobile=mobile,
            html=html_part,
            attachment=attach,
        )
        self.msgs.append(draft)
        self.gen.drafts.append(draft)
        return draft


def _new_state(rng: random.Random, customer: _Actor) -> dict[str, Any]:
    """The facts one conversation keeps coming back to."""
    state: dict[str, Any] = {
        "feature": rng.choice(_FEATURES),
        "symptom": rng.choice(_SYMPTOMS),
        "version": rng.choice(_VERSIONS),
        "ticket": f"HL-{rng.randint(41000, 49999)}",
        "plan": rng.choice(_PLANS),
        "seats": rng.choice((12, 15, 20, 25, 30, 40, 50, 75, 120)),
        "dept": rng.choice(_DEPTS),
        "quote": f"Q-2026-{rng.randint(100, 399)}",
        "inv": f"INV-2026-{rng.randint(1000, 1999)}",
        "po": f"PO-{rng.randint(450000, 459999)}",
        "howto": rng.choice(_HOWTOS),
        "req": rng.choice(_REQS),
        "extra": rng.choice((3, 5, 8, 10, 15)),
        "pct": rng.choice((20, 25, 30, 35, 40)),
        "adoption": rng.choice((70, 75, 80, 85, 90)),
        "meeting": None,
    }
    return state


def _colleague(customer: _Actor) -> _Actor:
    return next(a for a in _CUSTOMERS if a.company_key == customer.company_key and a != customer)


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _sc_support_quick(t: _Thread, idx: int) -> None:
    rng = t.rng
    kind = rng.choice(("support_question", "bug_report"))
    short = t.state["feature"][1]
    if kind == "bug_report":
        subject = rng.choice(
            (f"{_cap(short)} not working since {t.state['version']}", f"Problem with {short}",
             f"{_cap(short)} errors after the update", f"Issue with {short}")
        )  # fmt: skip
    else:
        subject = rng.choice((f"Question about {short}", f"{_cap(short)}: quick question", f"Help with {short} setup"))
    t.subject = t.gen.unique_subject(subject, t.customer, t.state["ticket"])
    t.post("c", kind)
    t.post("s", "support_answer")
    if rng.random() < 0.6:
        t.post("c", "thanks")


def _sc_support_long(t: _Thread, idx: int) -> None:
    rng = t.rng
    short = t.state["feature"][1]
    subject = rng.choice(
        (f"{_cap(short)} broken for our agents", f"{_cap(short)} failing", f"Urgent: {short} issue",
         f"Ticket: {short} stopped working")
    )  # fmt: skip
    t.subject = t.gen.unique_subject(subject, t.customer, t.state["ticket"])
    length = rng.randint(5, 8)
    attach = _failed_jobs_csv(t.state) if idx == 0 else None
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("c", "bug_report", {}),
        ("s", "ask_details", {"pace": "fast"}),
        ("c", "provide_details", {"attach": attach}),
        ("s", "support_answer", {}),
        ("c", "complaint", {"level": 2, "pace": "slow"}),
        ("s", "apology_call", {"sender": _OLIVER, "cc": (_SUPPORT_INBOX,)}),
        ("c", "confirm", {"pace": "fast"}),
        ("s", "resolution", {"sender": _OLIVER, "pace": "slow"}),
    ]
    for side, kind, kwargs in steps[:length]:
        t.post(side, kind, **kwargs)


def _sc_escalation(t: _Thread, idx: int) -> None:
    rng = t.rng
    short = t.state["feature"][1]
    subject = rng.choice((f"{_cap(short)} down for our team", f"Still no fix for {short}", f"Outage: {short}"))
    t.subject = t.gen.unique_subject(subject, t.customer, t.state["ticket"])
    t.post("c", "bug_report")
    complaints = 3 if idx % 2 else 2
    for level in range(2, 2 + complaints):
        cc = (_colleague(t.customer),) if level >= 3 else ()
        t.post("c", "complaint", level=level, pace="slow" if level == 2 else "hours", cc=cc)
    if idx == 4:  # this customer never hears back
        return
    t.post("s", "apology_call", sender=_OLIVER, cc=(_SUPPORT_INBOX,), pace="fast")
    t.post("c", "confirm", pace="fast")
    if rng.random() < 0.7:
        t.post("s", "resolution", sender=_OLIVER, pace="slow")


def _sc_sales(t: _Thread, idx: int) -> None:
    rng, s = t.rng, t.state
    if t.customer.key == "zoe.mueller":
        subject = f"Offerte für {s['seats']} Lizenzen – Beacon {s['plan']}"
    else:
        subject = rng.choice(
            (f"Pricing for {s['seats']} {s['plan']} seats", f"Quote request - {t.customer.company_short}",
             "Beacon pricing enquiry", f"Licences for our {s['dept']} team", f"Enquiry: Beacon {s['plan']} plan")
        )  # fmt: skip
    t.subject = t.gen.unique_subject(subject, t.customer, s["ticket"])
    t.post("c", "purchase_inquiry")
    reply = t.post("s", "quote_reply")
    if reply is not None and s["meeting"] is not None:
        t.post("c", "confirm", pace="fast")
    pdf = _quote_pdf(s, t.customer) if idx < 2 else None
    t.post("s", "send_quote", to=(t.customer,), attach=pdf, pace="slow" if s["meeting"] else "normal")
    if rng.random() < 0.75:
        t.post("c", "purchase_followup", pace="slow")
        t.post("s", "terms_reply")
        if rng.random() < 0.6:
            t.post("c", "accept")


def _sc_sales_unanswered(t: _Thread, idx: int) -> None:
    rng, s = t.rng, t.state
    subject = rng.choice(("Pricing question", f"Beacon for {s['seats']} users", "Request for quotation"))
    t.subject = t.gen.unique_subject(subject, t.customer, s["ticket"])
    t.post("c", "purchase_inquiry")
    if rng.random() < 0.5:
        t.post("c", "nudge", pace="nudge")


def _sc_meeting(t: _Thread, idx: int) -> None:
    rng = t.rng
    by_customer = rng.random() < 0.6
    kind = rng.choice(("meeting_proposal", "call_proposal"))
    subject = rng.choice(
        ("Catch-up next week?", f"{t.customer.company_short} x Harborlight", f"Quick sync on {t.state['feature'][1]}",
         "Planning session", "Time for a call?")
    )  # fmt: skip
    t.subject = t.gen.unique_subject(subject, t.customer, t.state["ticket"])
    first, second = ("c", "s") if by_customer else ("s", "c")
    t.post(first, kind, to=None if by_customer else (t.customer,))
    if rng.random() < 0.3:
        t.post(second, "reschedule", pace="fast")
        t.post(first, "confirm", pace="fast")
    else:
        t.post(second, "confirm", pace="fast")


def _sc_request_in(t: _Thread, idx: int) -> None:
    rng = t.rng
    t.state["doc"] = rng.choice(_DOCS_FROM_US).format(inv=t.state["inv"], version=t.state["version"])
    t.subject = t.gen.unique_subject(f"Request: {t.state['doc']}", t.customer, t.state["ticket"])
    t.post("c", "request_doc")
    t.post("s", "send_doc", attach=_usage_csv(t.state) if idx == 0 else None)
    if rng.random() < 0.5:
        t.post("c", "thanks")


def _sc_request_out(t: _Thread, idx: int) -> None:
    rng = t.rng
    t.state["doc"] = rng.choice(_DOCS_FROM_THEM)
    t.subject = t.gen.unique_subject(f"Action needed: {t.state['doc']}", t.customer, t.state["ticket"])
    t.post("s", "request_doc", to=(t.customer,))
    if rng.random() < 0.75:
        t.post("c", "send_doc")
        if rng.random() < 0.5:
            t.post("s", "thanks")


def _sc_fyi(t: _Thread, idx: int) -> None:
    rng = t.rng
    t.state["fyi"] = _FYI[idx % len(_FYI)]
    day = _weekday_on_or_after(t.start_day + timedelta(days=rng.randint(5, 20)))
    t.state["fyi_date"] = _date_text(day, "explicit_uk")
    t.state["colleague"] = _colleague(t.customer).name
    subject = t.state["fyi"][0].format(date=t.state["fyi_date"], city=t.customer.city)
    t.subject = t.gen.unique_subject(subject, t.customer, t.state["ticket"])
    t.post("c", "fyi")


def _sc_maintenance(t: _Thread, idx: int) -> None:
    day = t.start_day + timedelta(days=(5 - t.start_day.weekday()) % 7 or 7)  # the coming Saturday
    t.state["fyi_date"] = _date_text(day, "explicit_uk")
    t.subject = t.gen.unique_subject(f"Scheduled maintenance on {t.state['fyi_date']}", t.customer, "")
    t.post("s", "maintenance", to=(t.customer,))


def _sc_praise(t: _Thread, idx: int) -> None:
    rng = t.rng
    subject = rng.choice(
        ("Thank you!", "Some feedback on Beacon", "Kudos to your support team", "Great experience so far")
    )
    t.subject = t.gen.unique_subject(subject, t.customer, t.state["ticket"])
    t.post("c", "praise", to=(t.staff,))
    if rng.random() < 0.6:
        t.post("s", "thanks_reply")


def _sc_outreach(t: _Thread, idx: int) -> None:
    rng = t.rng
    subject = rng.choice(
        ("Checking in", "How is Beacon working for you?", f"{t.customer.company_short} check-in",
         f"Quick check-in on {t.state['feature'][1]}")
    )  # fmt: skip
    t.subject = t.gen.unique_subject(subject, t.customer, t.state["ticket"])
    t.post("s", "checkin", to=(t.customer,))
    if rng.random() < 0.3:
        return  # never answered
    t.post("c", "confirm" if t.state["meeting"] else "checkin_reply")
    if t.state["meeting"] is None and rng.random() < 0.5:
        t.post("s", "thanks")


def _sc_renewal(t: _Thread, idx: int) -> None:
    rng = t.rng
    day = _weekday_on_or_after(t.start_day + timedelta(days=rng.randint(25, 45)))
    t.state["renew_date"] = f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
    subject = rng.choice(
        ("Your Beacon renewal", f"Renewal of the {t.customer.company_short} subscription",
         f"Upcoming renewal: {t.state['plan']} plan")
    )  # fmt: skip
    t.subject = t.gen.unique_subject(subject, t.customer, t.state["ticket"])
    t.post("s", "renewal_notice", to=(t.customer,))
    t.post("c", "renewal_question")
    t.post("s", "send_quote")
    if rng.random() < 0.6:
        t.post("c", "accept")


def _sc_question_unanswered(t: _Thread, idx: int) -> None:
    short = t.state["feature"][1]
    t.subject = t.gen.unique_subject(f"{_cap(short)} configuration question", t.customer, t.state["ticket"])
    t.post("c", "support_question")
    t.post("c", "nudge", pace="nudge")


def _sc_forward_in(t: _Thread, idx: int) -> None:
    s, customer = t.state, t.customer
    inner_subject = f"Harborlight invoice {s['inv']} - missing PO"
    t.subject = t.gen.unique_subject(f"Fwd: {inner_subject}", customer, s["ticket"])
    sent = datetime(t.start_day.year, t.start_day.month, t.start_day.day, 9, 2, tzinfo=customer.tz) - timedelta(days=1)
    inner = (
        f"Hi {customer.first},\n\nWe received invoice {s['inv']} from Harborlight Software, but it doesn't reference a "
        f"purchase order, so we can't process it. Can you ask them to reissue it with {s['po']}?\n\n"
        f"Thanks,\nAccounts Payable\n{customer.company}"
    )
    original = (f"Accounts Payable <ap@{customer.domain}>", _addr_text(customer), sent, inner_subject, inner)
    t.post("c", "forward_in", to=(t.staff,), forward=original)
    t.state["doc"] = f"a corrected copy of invoice {s['inv']}"
    t.post("s", "send_doc", attach=None)


def _sc_forward_out(t: _Thread, idx: int) -> None:
    rng = t.rng
    colleague = _colleague(t.customer)  # the customer of this thread is the colleague's teammate
    t.state["colleague"] = colleague.first
    inner_subject = f"Beacon onboarding plan for {t.customer.company_short}"
    t.subject = t.gen.unique_subject(f"Fwd: {inner_subject}", t.customer, t.state["ticket"])
    sent = datetime(t.start_day.year, t.start_day.month, t.start_day.day, 10, 40, tzinfo=_MAYA.tz) - timedelta(days=6)
    inner = (
        f"Hi {colleague.first},\n\nAs discussed, here is the onboarding plan we suggest:\n\n"
        "Week 1: workspace setup, SSO and user import\nWeek 2: workflows and SLA rules\n"
        "Week 3: reporting and a training session for team leads\nWeek 4: go-live review\n\n"
        "Best wishes,\nMaya"
    )
    original = (_MAYA, _addr_text(colleague), sent, inner_subject, inner)
    t.post("s", "forward_out", to=(t.customer,), cc=(colleague,), forward=original)
    if rng.random() < 0.8:
        t.post("c", "call_proposal", pace="normal")
        t.post("s", "confirm", pace="fast")


_Scenario = Callable[[_Thread, int], None]

# (scenario, how many threads, who answers for us, which of our addresses the first mail goes to)
_PLAN: tuple[tuple[_Scenario, int, _Actor, _Actor], ...] = (
    (_sc_support_quick, 24, _PRIYA, _SUPPORT_INBOX),
    (_sc_support_long, 9, _PRIYA, _SUPPORT_INBOX),
    (_sc_escalation, 5, _PRIYA, _SUPPORT_INBOX),
    (_sc_sales, 10, _DANIEL, _SALES_INBOX),
    (_sc_sales_unanswered, 5, _DANIEL, _SALES_INBOX),
    (_sc_meeting, 15, _MAYA, _MAYA),
    (_sc_request_in, 8, _MAYA, _MAYA),
    (_sc_request_out, 5, _DANIEL, _DANIEL),
    (_sc_fyi, 5, _MAYA, _MAYA),
    (_sc_maintenance, 2, _MAYA, _MAYA),
    (_sc_praise, 5, _MAYA, _MAYA),
    (_sc_outreach, 7, _MAYA, _MAYA),
    (_sc_renewal, 5, _DANIEL, _DANIEL),
    (_sc_question_unanswered, 4, _PRIYA, _SUPPORT_INBOX),
    (_sc_forward_in, 2, _DANIEL, _DANIEL),
    (_sc_forward_out, 2, _MAYA, _MAYA),
)
# Threads whose customer is fixed, so the mailbox always shows these cases.
_PINNED = {("_sc_sales", 0): "zoe.mueller", ("_sc_escalation", 0): "marcus.johnson"}


def _build_customers() -> tuple[_Actor, ...]:
    companies = {c.key: c for c in _COMPANIES}
    actors = []
    for company_key, name, first, local, title, client, style, phones, linkedin, mobile, drops in _CONTACTS:
        c = companies[company_key]
        legacy = client == "outlook" and company_key in ("alpenrose", "sakura")
        actors.append(
            _Actor(
                key=local,
                name=name,
                first=first,
                email=f"{local}@{c.domain}",
                title=title,
                company=c.name,
                offset=c.offset,
                tz_label=c.tz_label,
                client="outlook_legacy" if legacy else client,
                clock=c.clock,
                sig_style=style,
                phones=phones,
                website=c.website,
                address=c.address,
                linkedin=linkedin,
                mobile=mobile,
                drops_refs=drops,
                disclaimer=c.disclaimer,
                company_key=c.key,
                company_short=c.short,
                city=c.city,
                currency=c.currency,
                outlook_host=c.outlook_host,
            )
        )
    return tuple(actors)


_CUSTOMERS = _build_customers()


def _generate(seed: int) -> list[_Draft]:
    """Write every thread and return the drafts in date order (the order files are written)."""
    gen = _Generator(seed)
    rng = gen.rng
    jobs = [(scenario, i, staff, first_to) for scenario, count, staff, first_to in _PLAN for i in range(count)]
    rng.shuffle(jobs)
    customers = list(_CUSTOMERS)
    rng.shuffle(customers)
    by_key = {a.key: a for a in _CUSTOMERS}
    # Threads start on working days spread evenly over the period, the first on its first day.
    days = [_FIRST_DAY + timedelta(days=i) for i in range((_LAST_DAY - _FIRST_DAY).days)]
    workdays = [day for day in days if day.weekday() < 5]
    for n, (scenario, i, staff, first_to) in enumerate(jobs):
        customer = by_key.get(_PINNED.get((scenario.__name__, i), ""), customers[n % len(customers)])
        day = workdays[0 if n == 0 else int((n + rng.random()) * len(workdays) / len(jobs))]
        key = f"T{n + 1:03d}-{scenario.__name__.removeprefix('_sc_')}"
        scenario(_Thread(gen, key, customer, staff, first_to, day), i)
    return sorted(gen.drafts, key=lambda d: (d.sent_at.timestamp(), d.seq))


# --------------------------------------------------------------------------------------------
# Attachments
# --------------------------------------------------------------------------------------------


def _pdf(lines: list[str]) -> bytes:
    """A tiny one-page PDF (Helvetica text), with a correct cross-reference table."""
    ops = " ".join(
        "({}) Tj T*".format(line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")) for line in lines
    )
    stream = f"BT /F1 11 Tf 72 760 Td 16 TL {ops} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode("ascii")
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("ascii")
    return out


def _quote_pdf(state: dict[str, Any], customer: _Actor) -> tuple[str, str, bytes]:
    plan, seats = state["plan"], state["seats"]
    unit = _PRICES[plan] + (3 if customer.currency == "CHF" else 0)
    lines = [
        f"Harborlight Software - Quote {state['quote']}",
        f"Customer: {customer.company_short}",
        f"Beacon {plan}, {seats} seats, 12 months",
        f"Unit price: {customer.currency} {unit} per seat per month",
        f"Total: {customer.currency} {unit * seats * 12:,}",
        "Valid for 30 days.",
    ]
    return f"Quote_{state['quote']}.pdf", "application/pdf", _pdf(lines)


def _failed_jobs_csv(state: dict[str, Any]) -> tuple[str, str, bytes]:
    rows = ["job_id,started_utc,status,error"]
    for i in range(6):
        rows.append(f"J{70412 + i * 7},2026-06-{10 + i:02d}T02:00:{i * 9:02d}Z,failed,timeout after 30000 ms")
    return "failed_jobs.csv", "text/csv", ("\n".join(rows) + "\n").encode("ascii")


def _usage_csv(state: dict[str, Any]) -> tuple[str, str, bytes]:
    rows = ["month,active_seats,licensed_seats,tickets"]
    for month, active in (("2026-04", 0.81), ("2026-05", 0.86), ("2026-06", 0.9)):
        seats = state["seats"]
        rows.append(f"{month},{round(seats * active)},{seats},{seats * 37}")
    return "licence_usage_q2.csv", "text/csv", ("\n".join(rows) + "\n").encode("ascii")


# --------------------------------------------------------------------------------------------
# Rendering raw RFC 5322 bytes
# --------------------------------------------------------------------------------------------


# Folds headers and turns non-ASCII words into RFC 2047 encoded-words, as mail clients do.
_HEADER_POLICY = policy.default.clone(linesep="\n", refold_source="all")


def _header(name: str, value: str) -> str:
    if value.isascii():
        return _fold_ascii(f"{name}: {value}")
    folded = _HEADER_POLICY.fold(name, value).rstrip("\n")
    # The stdlib moves a value that fits on a line of its own below the name; clients don't.
    return folded.replace(f"{name}:\n ", f"{name}: ", 1)


def _fold_ascii(line: str, width: int = 78) -> str:
    """Fold a header at spaces so that lines stay within `width` where possible."""
    lines: list[str] = []
    while len(line) > width:
        cut = line.rfind(" ", 0, width)
        if cut <= line.find(":") + 1:
            break
        lines.append(line[:cut])
        line = line[cut:]
    return "\n".join([*lines, line])


def _address_list(actors: Sequence[_Actor]) -> str:
    return ", ".join(str(Address(a.display or a.name, *a.email.split("@"))) for a in actors)


def _text_leaf(text: str, subtype: str) -> tuple[list[str], str]:
    lines = text.split("\n")
    if text.isascii() and max(len(line) for line in lines) <= 76:
        return [f'Content-Type: text/{subtype}; charset="UTF-8"', "Content-Transfer-Encoding: 7bit"], text
    payload = quopri.encodestring(text.encode("utf-8")).decode("ascii")
    return [f'Content-Type: text/{subtype}; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable"], payload


def _multipart(subtype: str, boundary: str, parts: list[tuple[list[str], str]]) -> tuple[list[str], str]:
    chunks = []
    for headers, payload in parts:
        chunks.append(f"--{boundary}\n" + "\n".join(headers) + "\n\n" + payload.rstrip("\n") + "\n")
    body = "".join(chunks) + f"--{boundary}--\n"
    return [f'Content-Type: multipart/{subtype}; boundary="{boundary}"'], body


def _html(d: _Draft) -> str:
    def block(text: str) -> str:
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        return "\n".join(f"<div>{html.escape(p).replace(chr(10), '<br>')}</div><div><br></div>" for p in paragraphs)

    parts = ['<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>']
    parts.append(f'<div dir="ltr">\n{block(d.new_text)}\n</div>')
    if d.quote_text:
        head, _, rest = d.quote_text.partition("\n")
        if head.startswith("On "):
            quoted = "\n".join(line[2:] if line.startswith("> ") else line.lstrip(">") for line in rest.split("\n"))
            parts.append(
                f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{html.escape(head)}<br></div>'
                f'<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
                f'rgb(204,204,204);padding-left:1ex">\n{block(quoted)}\n</blockquote></div>'
            )
        else:
            parts.append(f'<div id="divRplyFwdMsg">\n{block(d.quote_text)}\n</div>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _mailer_header(d: _Draft) -> str | None:
    if d.mobile:
        return "X-Mailer: iPhone Mail (22F76)"
    client = d.sender.client
    if client.startswith("outlook"):
        return "X-Mailer: Microsoft Outlook 16.0"
    if client == "apple":
        return "X-Mailer: Apple Mail (2.3826.500.181.1.5)"
    if client == "thunderbird":
        return "User-Agent: Mozilla Thunderbird"
    return None


def _boundary(d: _Draft, token: str) -> str:
    """A MIME boundary in the style of the sender's client (never random, unlike the stdlib's)."""
    client = "apple" if d.mobile else d.sender.client
    if client.startswith("outlook"):
        host = d.message_id[1:].split("@")[1].split(".")[0]
        return f"_000_{host}{token.upper()}_"
    if client == "apple":
        return f"Apple-Mail={token[:8].upper()}-{token[8:12].upper()}-{token[12:16].upper()}"
    if client == "thunderbird":
        return f"------------{token[:24]}"
    return f"000000000000{token}"


def _render(d: _Draft) -> bytes:
    """The raw message, LF line endings, as our mail server stored it."""
    token = hashlib.sha256(d.message_id.encode("ascii")).hexdigest()
    headers: list[str] = []
    if not d.sender.staff:
        arrived = (d.sent_at + timedelta(seconds=2 + int(token[:4], 16) % 40)).astimezone(_PRIYA.tz)
        ip = f"203.0.113.{int(token[4:6], 16) % 250 + 1}"
        headers += [
            f"Return-Path: <{d.sender.email}>",
            f"Delivered-To: {d.to[0].email}",
            f"Received: from mail.{d.sender.domain} (mail.{d.sender.domain} [{ip}])\n"
            f"\tby mx.harborlight.example (Postfix) with ESMTPS id {token[6:16].upper()}\n"
            f"\tfor <{d.to[0].email}>; {format_datetime(arrived)}",
        ]
    headers.append(_header("From", _address_list([d.sender])))
    headers.append(_header("To", _address_list(d.to)))
    if d.cc:
        headers.append(_header("Cc", _address_list(d.cc)))
    headers.append(_header("Subject", d.subject))
    headers.append(f"Date: {format_datetime(d.sent_at)}")
    headers.append(f"Message-ID: {d.message_id}")
    if d.in_reply_to:
        headers.append(f"In-Reply-To: {d.in_reply_to}")
    if d.references:
        headers.append("References: " + "\n ".join(d.references))
    if d.sender.client.startswith("outlook") and not d.mobile:
        headers.append(_header("Thread-Topic", d.subject.removeprefix("RE: ")))
    mailer = _mailer_header(d)
    if mailer:
        headers.append(mailer)
    headers.append("MIME-Version: 1.0")

    content = _text_leaf(d.body, "plain")
    if d.html:
        content = _multipart("alternative", _boundary(d, token[16:32]), [content, _text_leaf(_html(d), "html")])
    if d.attachment:
        filename, mime_type, data = d.attachment
        attachment = (
            [
                f'Content-Type: {mime_type}; name="{filename}"',
                f'Content-Disposition: attachment; filename="{filename}"',
                "Content-Transfer-Encoding: base64",
            ],
            base64.encodebytes(data).decode("ascii"),
        )
        content = _multipart("mixed", _boundary(d, token[32:48]), [content, attachment])
    content_headers, payload = content
    return ("\n".join(headers + content_headers) + "\n\n" + payload).encode("ascii")


def _truth(d: _Draft) -> DemoMessage:
    outbound = d.sender.staff
    return DemoMessage(
        message_id=d.message_id,
        thread_key=d.thread_key,
        folder="Sent" if outbound else "INBOX",
        direction="outbound" if outbound else "inbound",
        sent_at=d.sent_at,
        sender=d.sender.email.lower(),
        recipients=tuple(a.email.lower() for a in (*d.to, *d.cc)),
        subject=d.subject,
        intent=d.content.intent,
        sentiment=d.content.sentiment,
        emotion=d.content.emotion,
        activities=tuple(dict(a) for a in d.content.activities),
        signature=None
        if d.signature is None
        else {k: (list(v) if isinstance(v, list) else v) for k, v in d.signature.items()},
    )
