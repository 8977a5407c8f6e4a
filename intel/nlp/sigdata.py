"""Synthetic emails with labelled lines, for training and testing the signature classifier.

Every email is composed from the pools below (people, titles, companies, addresses, phone
layouts, sign-offs in nine languages, disclaimers, mobile footers, body sentences, quoted
replies) by one `random.Random(seed)`. Each line gets a label: ``B`` body (the sign-off phrase
too), ``S`` signature (the sign-off name and everything of the block), ``F`` footer (mobile
footers, disclaimers, banners). Quoted text is labelled ``B``: only the new text is classified.

`pool_half` splits the pools of names, companies, titles and cities in two disjoint halves
(even and odd positions), so a test set can be drawn from people and companies that the
training set never saw.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Email", "generate", "read_jsonl", "read_marked", "write_jsonl"]

Line = tuple[str, str]  # (text, label)

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "Michael",
    "Jennifer",
    "William",
    "Linda",
    "David",
    "Elizabeth",
    "Richard",
    "Barbara",
    "Joseph",
    "Susan",
    "Thomas",
    "Jessica",
    "Charles",
    "Sarah",
    "Christopher",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "George",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Ronald",
    "Rebecca",
    "Jason",
    "Sharon",
    "Edward",
    "Laura",
    "Jeffrey",
    "Cynthia",
    "Ryan",
    "Kathleen",
    "Jacob",
    "Amy",
    "Hans",
    "Greta",
    "Lukas",
    "Anna",
    "Jonas",
    "Lena",
    "Felix",
    "Sophie",
    "Pierre",
    "Camille",
    "Louis",
    "Chloé",
    "Mathieu",
    "Léa",
    "Carlos",
    "María",
    "José",
    "Lucía",
    "Javier",
    "Sofía",
    "Alejandro",
    "Valeria",
    "Giulia",
    "Marco",
    "Chiara",
    "Luca",
    "Francesca",
    "Matteo",
    "Sven",
    "Ingrid",
    "Lars",
    "Astrid",
    "Mikko",
    "Aino",
    "Piotr",
    "Agnieszka",
    "Tomasz",
    "Katarzyna",
    "Raj",
    "Priya",
    "Arjun",
    "Ananya",
    "Vikram",
    "Deepa",
    "Rahul",
    "Kavya",
    "Wei",
    "Li",
    "Ming",
    "Xiao",
    "Hiroshi",
    "Yuki",
    "Kenji",
    "Aiko",
    "Min-jun",
    "Seo-yeon",
    "Oluwaseun",
    "Chiamaka",
    "Kwame",
    "Ama",
    "Tunde",
    "Ngozi",
    "Ahmed",
    "Fatima",
    "Omar",
    "Leila",
    "Youssef",
    "Amira",
    "Mehmet",
    "Elif",
    "Dmitri",
    "Olga",
    "Ivan",
    "Natasha",
    "João",
    "Ana",
    "Pedro",
    "Beatriz",
    "Thabo",
    "Naledi",
    "Siobhan",
    "Ciarán",
    "Aoife",
    "Declan",
    "Niamh",
    "Tariq",
    "Zainab",
    "Hamza",
    "Noor",
    "Mateo",
    "Isabella",
    "Santiago",
    "Camila",
    "Ethan",
    "Olivia",
    "Noah",
    "Ava",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Dubois",
    "Lefebvre",
    "Moreau",
    "Laurent",
    "Fernández",
    "Ruiz",
    "Díaz",
    "Moreno",
    "Rossi",
    "Russo",
    "Bianchi",
    "Romano",
    "Colombo",
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Hansen",
    "Nielsen",
    "Virtanen",
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Sharma",
    "Patel",
    "Singh",
    "Kumar",
    "Gupta",
    "Reddy",
    "Iyer",
    "Chen",
    "Wang",
    "Zhang",
    "Liu",
    "Yang",
    "Tanaka",
    "Suzuki",
    "Takahashi",
    "Watanabe",
    "Kim",
    "Park",
    "Choi",
    "Okafor",
    "Adeyemi",
    "Mensah",
    "Boateng",
    "Eze",
    "Nwosu",
    "Haddad",
    "Mansour",
    "Benali",
    "Yilmaz",
    "Kaya",
    "Ivanov",
    "Petrov",
    "Silva",
    "Santos",
    "Oliveira",
    "Pereira",
    "Dlamini",
    "Ndlovu",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Byrne",
    "McCarthy",
    "van",
    "der",
    "Berg",
    "de",
    "Jong",
    "Bakker",
    "Visser",
    "Jansen",
    "Novak",
    "Horvat",
]
PARTICLES = ("van der", "de", "van", "von", "da", "di", "del", "O'", "Mac", "al-")
TITLES = (
    "Account Executive",
    "Senior Account Manager",
    "Operations Manager",
    "Director of Operations",
    "Head of Procurement",
    "Procurement Specialist",
    "Customer Success Manager",
    "VP of Sales",
    "Vice President, Engineering",
    "Chief Technology Officer",
    "CTO",
    "CEO & Co-Founder",
    "Founder",
    "Software Engineer",
    "Senior Software Engineer",
    "Data Scientist",
    "Product Manager",
    "Senior Product Designer",
    "Marketing Coordinator",
    "Head of Marketing",
    "IT Administrator",
    "Systems Analyst",
    "Project Manager",
    "Program Director",
    "HR Business Partner",
    "Talent Acquisition Lead",
    "Finance Manager",
    "Accounts Payable Specialist",
    "Legal Counsel",
    "Paralegal",
    "Office Manager",
    "Executive Assistant to the CEO",
    "Support Engineer",
    "Technical Support Lead",
    "Solutions Architect",
    "Sales Director EMEA",
    "Regional Sales Manager, APAC",
    "Partner",
    "Managing Director",
    "Principal Consultant",
    "Research Scientist",
    "Clinical Systems Manager",
    "Logistics Coordinator",
    "Purchasing Agent",
    "Business Development Manager",
    "Leiter Vertrieb",
    "Geschäftsführer",
    "Directrice Commerciale",
    "Responsable des Achats",
    "Gerente de Operaciones",
    "Jefe de Compras",
    "Direttore Tecnico",
    "Teamleider Klantenservice",
    "Inköpschef",
    "Senior Associate",
    "Compliance Officer",
    "Security Engineer",
    "DevOps Lead",
    "Customer Service Representative",
    "Recruiter",
)
COMPANY_WORDS = [
    "Acme",
    "Northstar",
    "Bluebird",
    "Redwood",
    "Summit",
    "Pinnacle",
    "Harbor",
    "Meridian",
    "Atlas",
    "Vertex",
    "Evergreen",
    "Silverline",
    "Ironwood",
    "Cobalt",
    "Lumen",
    "Crescent",
    "Brightwater",
    "Oakridge",
    "Stonebridge",
    "Falcon",
    "Horizon",
    "Keystone",
    "Riverside",
    "Granite",
    "Sapphire",
    "Willow",
    "Aurora",
    "Beacon",
    "Cedar",
    "Everest",
    "Quantum",
    "Nimbus",
    "Orion",
    "Polaris",
    "Sterling",
    "Trident",
    "Zenith",
    "Alder",
    "Birch",
    "Copper",
    "Delta",
    "Ember",
    "Fjord",
    "Glacier",
    "Heron",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Larch",
    "Mosaic",
    "Nova",
    "Onyx",
    "Prairie",
    "Quarry",
    "Raven",
]
COMPANY_KINDS = (
    "Logistics",
    "Analytics",
    "Health",
    "Foods",
    "Energy",
    "Capital",
    "Media",
    "Consulting",
    "Software",
    "Systems",
    "Retail",
    "Insurance",
    "Manufacturing",
    "Labs",
    "Freight",
    "Pharma",
    "Partners",
    "Technologies",
    "Design Studio",
    "Legal",
)
COMPANY_SUFFIXES = (
    "Inc.",
    "Ltd",
    "Ltd.",
    "LLC",
    "GmbH",
    "AG",
    "B.V.",
    "S.A.",
    "SAS",
    "S.r.l.",
    "Pty Ltd",
    "plc",
    "Co., Ltd.",
    "Corp.",
    "Group",
    "AB",
    "AS",
    "Oy",
    "",
    "",
    "",
    "",
)
TLDS = ("com", "com", "com", "io", "co.uk", "de", "nl", "fr", "com.au", "ca", "es", "it", "se", "co", "net", "org")
CITIES = (
    ("123 Main Street, Suite 400", "Springfield, IL 62701", "USA", "US"),
    ("500 Market St.", "San Francisco, CA 94105", "United States", "US"),
    ("1 Canada Square, Level 39", "London E14 5AB", "United Kingdom", "GB"),
    ("27 Queen Street", "Edinburgh EH2 1JX", "UK", "GB"),
    ("Friedrichstraße 68", "10117 Berlin", "Germany", "DE"),
    ("Maximilianstr. 12", "80539 München", "Deutschland", "DE"),
    ("12 rue de la Paix", "75002 Paris", "France", "FR"),
    ("Calle de Alcalá 45, 3º", "28014 Madrid", "España", "ES"),
    ("Via Montenapoleone 8", "20121 Milano", "Italia", "IT"),
    ("Keizersgracht 123", "1015 CJ Amsterdam", "The Netherlands", "NL"),
    ("Drottninggatan 25", "111 51 Stockholm", "Sweden", "SE"),
    ("Karl Johans gate 7", "0154 Oslo", "Norway", "NO"),
    ("200 Bay Street, Suite 2100", "Toronto, ON M5J 2J1", "Canada", "CA"),
    ("Level 5, 88 George Street", "Sydney NSW 2000", "Australia", "AU"),
    ("3-1-1 Marunouchi, Chiyoda-ku", "Tokyo 100-0005", "Japan", "JP"),
    ("10 Anson Road, #22-02", "Singapore 079903", "", "SG"),
    ("Plot 12, Admiralty Way, Lekki Phase 1", "Lagos", "Nigeria", "NG"),
    ("Av. Paulista, 1578", "São Paulo - SP, 01310-200", "Brasil", "BR"),
    ("Paseo de la Reforma 250", "06600 Ciudad de México, CDMX", "México", "MX"),
    ("Bahnhofstrasse 10", "8001 Zürich", "Switzerland", "CH"),
    ("Rua Augusta 100", "1100-053 Lisboa", "Portugal", "PT"),
    ("Nørregade 7", "1165 København K", "Denmark", "DK"),
    ("4th Floor, Tech Park, Whitefield", "Bengaluru 560066", "India", "IN"),
    ("1200 Peachtree St NE", "Atlanta, GA 30309", "", "US"),
)
PHONES = {
    "US": (
        "+1 {a}{b}{c} 555 0{d}{e}{f}",
        "({a}{b}{c}) 555-0{d}{e}{f}",
        "{a}{b}{c}-555-0{d}{e}{f}",
        "{a}{b}{c}.555.0{d}{e}{f}",
    ),
    "GB": ("+44 20 7946 0{d}{e}{f}", "+44 (0)20 7946 0{d}{e}{f}", "020 7946 0{d}{e}{f}", "+44 7700 900{d}{e}{f}"),
    "DE": ("+49 30 1234 5{d}{e}{f}", "+49 (0)89 555 {d}{e}{f}0", "030 1234 5{d}{e}{f}", "+49 151 2345 6{d}{e}{f}"),
    "FR": ("+33 1 23 45 6{d} {e}{f}", "01 23 45 6{d} {e}{f}", "+33 6 12 34 5{d} {e}{f}"),
    "ES": ("+34 91 123 4{d}{e}{f}", "+34 612 34 5{d} {e}{f}"),
    "IT": ("+39 02 1234 5{d}{e}{f}", "+39 347 123 4{d}{e}{f}"),
    "NL": ("+31 20 123 4{d}{e}{f}", "+31 6 1234 5{d}{e}{f}", "020-123 4{d}{e}{f}"),
    "SE": ("+46 8 123 4{d}{e}{f}", "+46 70 123 4{d} {e}{f}"),
    "NO": ("+47 22 12 3{d} {e}{f}", "+47 912 34 {d}{e}{f}"),
    "CA": ("+1 416 555 0{d}{e}{f}", "416-555-0{d}{e}{f}"),
    "AU": ("+61 2 9876 5{d}{e}{f}", "0412 345 {d}{e}{f}", "(02) 9876 5{d}{e}{f}"),
    "JP": ("+81-3-1234-5{d}{e}{f}", "03-1234-5{d}{e}{f}"),
    "SG": ("+65 6123 4{d}{e}{f}", "+65 9123 4{d}{e}{f}"),
    "NG": ("+234 803 123 4{d}{e}{f}", "0803 123 4{d}{e}{f}"),
    "BR": ("+55 11 3456-7{d}{e}{f}", "+55 11 98765-4{d}{e}{f}"),
    "MX": ("+52 55 1234 5{d}{e}{f}",),
    "CH": ("+41 44 123 4{d} {e}{f}", "+41 79 123 4{d} {e}{f}"),
    "PT": ("+351 21 123 4{d}{e}{f}",),
    "DK": ("+45 33 12 3{d} {e}{f}",),
    "IN": ("+91 80 1234 5{d}{e}{f}", "+91 98450 1{d}{e}{f}5"),
}
MOBILE_LABELS = (
    "M:",
    "Mobile:",
    "Mob:",
    "Cell:",
    "C:",
    "Mobile",
    "M.",
    "Cell",
    "Handy:",
    "Mob.",
    "Portable :",
    "Móvil:",
)
OFFICE_LABELS = (
    "T:",
    "Tel:",
    "Tel.",
    "Phone:",
    "P:",
    "Office:",
    "O:",
    "Direct:",
    "D:",
    "Ph:",
    "Tél. :",
    "Tlf:",
    "Work:",
)
FAX_LABELS = ("F:", "Fax:", "Fax", "F.")
SIGNOFFS_EN = (
    "Best,",
    "Best regards,",
    "Kind regards,",
    "Regards,",
    "Thanks,",
    "Thank you,",
    "Many thanks,",
    "Cheers,",
    "Warm regards,",
    "Sincerely,",
    "All the best,",
    "Best wishes,",
    "Thanks!",
    "Thanks again,",
    "Talk soon,",
    "Warmly,",
    "Respectfully,",
    "Yours sincerely,",
    "Thx,",
    "Cheers",
    "Best",
    "Regards",
    "Thanks",
    "BR,",
    "Kind Regards",
    "Thanks in advance,",
    "Have a great day,",
    "Speak soon,",
    "Take care,",
    "With thanks,",
)
SIGNOFFS_INTL = (
    "Mit freundlichen Grüßen",
    "Viele Grüße",
    "Beste Grüße,",
    "Freundliche Grüsse",
    "LG",
    "Cordialement,",
    "Bien cordialement,",
    "Bien à vous,",
    "Saludos,",
    "Un saludo,",
    "Atentamente,",
    "Cordiali saluti,",
    "Saluti,",
    "Met vriendelijke groet,",
    "Groeten,",
    "Med vänliga hälsningar",
    "Mvh",
    "Med venlig hilsen",
    "Atenciosamente,",
    "Abraços,",
    "Freundliche Grüsse / Kind regards",
    "よろしくお願いします。",
)
MOBILE_FOOTERS = (
    "Sent from my iPhone",
    "Sent from my iPad",
    "Sent from my Android",
    "Sent from my Samsung Galaxy smartphone.",
    "Get Outlook for iOS",
    "Get Outlook for Android",
    "Sent from Mail for Windows",
    "Sent from Yahoo Mail on Android",
    "Sent via Superhuman",
    "Sent with Proton Mail secure email.",
    "Von meinem iPhone gesendet",
    "Envoyé de mon iPhone",
    "Enviado desde mi iPhone",
    "Sent from my mobile device. Please excuse typos.",
    "Sent on the go",
)
DISCLAIMERS = (
    "CONFIDENTIALITY NOTICE: This e-mail message, including any attachments, is for the sole use of the intended "
    "recipient(s) and may contain confidential and privileged information. Any unauthorized review, use, disclosure "
    "or distribution is prohibited.",
    "This email and any files transmitted with it are confidential and intended solely for the use of the "
    "individual or entity to whom they are addressed. If you have received this email in error please notify the "
    "sender.",
    "The information contained in this message is confidential.\nIf you are not the intended recipient, please "
    "delete it and notify the sender.",
    "Please consider the environment before printing this email.",
    "DISCLAIMER: The views expressed in this email are those of the author and do not necessarily reflect those "
    "of the company.",
    "Diese E-Mail enthält vertrauliche Informationen. Wenn Sie nicht der richtige Adressat sind, informieren Sie "
    "bitte sofort den Absender.",
    "Ce message et ses pièces jointes sont confidentiels et destinés exclusivement à leur destinataire.",
    "Registered in England and Wales. Company number 01234567. Registered office: 1 Example Way, London.",
    "This message has been scanned for viruses and dangerous content.",
    "NOTICE: This communication may contain privileged or other confidential information.",
    "We're hiring! Check out our open roles at careers page.",
)
TAGLINES = (
    "Making logistics simple.",
    "Building better software, together.",
    "Your partner in growth",
    "Innovation that matters",
    "Proud sponsor of the City Marathon 2026",
    "Winner, Best Workplace 2025",
    '"The best way to predict the future is to invent it." - Alan Kay',
    "Think big. Start small. Move fast.",
    "Helping teams do their best work",
)
REGISTRY = (
    "VAT: GB {n}",
    "HRB {n}, Amtsgericht München",
    "Company No. {n}",
    "ABN 12 {n}",
    "CIF: B{n}",
    "KvK {n}",
    "Registered in England and Wales No. {n}",
    "USt-IdNr.: DE{n}",
    "Org.nr. {n}",
)
PRONOUNS = ("(she/her)", "(he/him)", "(they/them)", "Pronouns: she/her", "He/Him", "she | her")
CREDENTIALS = (", MBA", ", PhD", ", CPA", ", PMP", ", MD", ", CFA", ", Esq.", "")
GREETINGS = (
    "Hi {n},",
    "Hello {n},",
    "Dear {n},",
    "Hey {n},",
    "{n},",
    "Hi {n}",
    "Good morning {n},",
    "Hi all,",
    "Hello team,",
    "Dear Sir or Madam,",
    "Hallo {n},",
    "Bonjour {n},",
    "Hola {n},",
    "Hi {n}!",
    "",
)
SENTENCES = (
    "Thanks for getting back to me so quickly.",
    "I wanted to follow up on our conversation from last week.",
    "Please find attached the revised proposal for your review.",
    "Could you let me know if the numbers look right to you?",
    "We are still waiting on the signed contract from your legal team.",
    "The shipment left our warehouse this morning and should arrive on Thursday.",
    "I've copied Sarah, who will take over the account from next month.",
    "Let me know if you have any questions.",
    "I think we should push the launch to the second week of October.",
    "Attached is the invoice for September.",
    "Our team reviewed the draft and we have a few comments.",
    "Can you confirm the delivery address before we dispatch the order?",
    "I'm out of the office until Monday with limited access to email.",
    "The meeting has been moved to 3pm tomorrow.",
    "We have decided to go ahead with the Enterprise plan.",
    "As discussed on the phone, I am sending over the details below.",
    "Unfortunately the server went down again last night.",
    "Please call me on +1 415 555 0199 if anything is unclear.",
    "You can reach our support desk at support@example.com or on 0800 123 4567.",
    "More details are on our website at https://www.example.com/pricing.",
    "The workshop will take place at 200 Park Avenue, New York.",
    "I'll be in Berlin next week, so maybe we can meet for coffee.",
    "Happy to jump on a call if that's easier.",
    "It was great to meet you at the conference.",
    "We appreciate your patience while we look into this.",
    "I have updated the spreadsheet with the latest figures.",
    "Sorry for the delay in getting back to you.",
    "Just a quick reminder that the report is due on Friday.",
    "Our finance team needs the PO number before we can process the payment.",
    "The new version fixes the login issue you reported.",
    "Do you have time for a quick chat this afternoon?",
    "Please review and sign the attached document.",
    "I'm not sure I understand the second point, could you clarify?",
    "Looking forward to working with you.",
    "Hope you had a good weekend.",
    "Here are the minutes from today's meeting.",
    "We will send the final version by end of day.",
    "John and Maria from our side will join the call.",
    "The price includes installation and one year of support.",
    "Let's aim to finalize everything before the end of the quarter.",
    "Our office is closed on Monday for the public holiday.",
    "I've forwarded your message to the right team.",
    "Vielen Dank für Ihre schnelle Antwort.",
    "Merci pour votre retour rapide.",
    "Gracias por la información.",
    "Could you send me the latest version of the deck?",
    "FYI, the contract renewal is coming up in November.",
    "See the notes below.",
    "Quick question about the onboarding schedule.",
    "We need to reschedule the training session.",
)
SHORT_BODY_LINES = (
    "Agenda:",
    "Next steps:",
    "Details below:",
    "Summary",
    "Attendees:",
    "Order details:",
    "Key points:",
    "Action items:",
)
KV_LINES = (
    "Order number: {n1}",
    "PO: {n1}",
    "Invoice: INV-{n1}",
    "Quantity: {q}",
    "Total: ${n2}",
    "Date: {d}",
    "Time: 10:00-11:30",
    "Location: Room {q}B",
    "Ticket: #{n1}",
    "Amount due: EUR {n2}",
    "Tracking: 1Z{n1}",
    "Phone: {phone}",
    "Contact: {person}",
    "Address: {street}",
)
BULLETS = (
    "Review the draft by Friday",
    "Send the updated pricing",
    "Confirm the venue",
    "Book travel for the team",
    "Share the test results",
    "Update the project plan",
    "Migrate the remaining users",
    "Check the invoice totals",
)
QUICK_REPLIES = (
    "Sounds good!",
    "Thanks!",
    "Got it, thanks.",
    "Perfect.",
    "Will do.",
    "OK, see you then.",
    "+1",
    "Noted.",
)


@dataclass
class Email:
    id: str
    lines: list[Line]
    sender: str | None
    style: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(t for t, _ in self.lines)

    @property
    def labels(self) -> list[str]:
        return [label for _, label in self.lines]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "sender": self.sender, "labels": self.labels, "style": self.style}


class _Pools:
    def __init__(self, half: int | None) -> None:
        def take(items: Sequence[Any]) -> list[Any]:
            return list(items) if half is None else [x for i, x in enumerate(items) if i % 2 == half]

        self.first = take(FIRST)
        self.last = take(LAST)
        self.titles = take(TITLES)
        self.words = take(COMPANY_WORDS)
        self.kinds = take(COMPANY_KINDS)
        self.cities = take(CITIES)


@dataclass
class _Person:
    first: str
    last: str
    title: str
    company: str
    domain: str
    city: tuple[str, str, str, str]
    credential: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        local = f"{self.first}.{self.last}".lower().replace(" ", "").replace("'", "")
        return _ascii(local) + "@" + self.domain


def _ascii(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii())


def _digits(rng: random.Random) -> dict[str, int]:
    return {k: rng.randint(0, 9) for k in "def"} | {
        "a": rng.randint(2, 9),
        "b": rng.randint(0, 9),
        "c": rng.randint(0, 9),
    }


def _phone(rng: random.Random, country: str) -> str:
    return rng.choice(PHONES.get(country, PHONES["US"])).format(**_digits(rng))


def _person(rng: random.Random, pools: _Pools) -> _Person:
    first = rng.choice(pools.first)
    last = rng.choice(pools.last)
    if rng.random() < 0.06:
        last = f"{rng.choice(pools.last)}-{rng.choice(pools.last)}"
    word = rng.choice(pools.words)
    kind = rng.choice(pools.kinds)
    suffix = rng.choice(COMPANY_SUFFIXES)
    company = " ".join(x for x in (word, kind, suffix) if x)
    if rng.random() < 0.15:
        company = word
    domain = (
        f"{word.lower()}{rng.choice(('', '-' + kind.lower().split()[0], kind.lower().split()[0]))}.{rng.choice(TLDS)}"
    )
    return _Person(
        first, last, rng.choice(pools.titles), company, domain, rng.choice(pools.cities), rng.choice(CREDENTIALS)
    )


def _wrap(text: str, width: int) -> list[str]:
    words = text.split()
    lines: list[str] = []
    current = ""
    for w in words:
        if current and len(current) + 1 + len(w) > width:
            lines.append(current)
            current = w
        else:
            current = f"{current} {w}" if current else w
    if current:
        lines.append(current)
    return lines


def _fill_kv(rng: random.Random, template: str, pools: _Pools) -> str:
    return template.format(
        n1=rng.randint(10000, 999999),
        n2=f"{rng.randint(1, 99)},{rng.randint(100, 999)}.00",
        q=rng.randint(2, 60),
        d=f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/2026",
        phone=_phone(rng, rng.choice(list(PHONES))),
        person=f"{rng.choice(pools.first)} {rng.choice(pools.last)}",
        street=rng.choice(pools.cities)[0],
    )


def _body(rng: random.Random, pools: _Pools, recipient: str) -> list[str]:
    lines: list[str] = []
    greeting = rng.choice(GREETINGS).format(n=recipient)
    if greeting:
        lines += [greeting, ""]
    n_par = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
    wrap = rng.random() < 0.3
    width = rng.choice((60, 66, 72, 76))
    for p in range(n_par):
        kind = rng.random()
        if kind < 0.1:
            lines.append(rng.choice(SHORT_BODY_LINES))
            lines += [f"{rng.choice(('-', '*', '•', '1.'))} {b}" for b in rng.sample(BULLETS, rng.randint(2, 4))]
        elif kind < 0.17:
            lines += [_fill_kv(rng, t, pools) for t in rng.sample(KV_LINES, rng.randint(2, 4))]
        elif kind < 0.21:
            lines.append(rng.choice(SHORT_BODY_LINES))
            lines += [f"{rng.choice(pools.first)} {rng.choice(pools.last)}" for _ in range(rng.randint(2, 3))]
        else:
            text = " ".join(rng.sample(SENTENCES, rng.randint(1, 4)))
            lines += _wrap(text, width) if wrap else [text]
        if p < n_par - 1:
            lines.append("")
    return lines


# --------------------------------------------------------------------------------------------
# Signature styles: each returns the lines of the block (all labelled S by the caller)
# --------------------------------------------------------------------------------------------


def _name(rng: random.Random, p: _Person) -> str:
    r = rng.random()
    if r < 0.08:
        return f"{p.name}{p.credential}"
    if r < 0.12:
        return f"{p.first} {p.last[0]}."
    if r < 0.15:
        return p.name.upper()
    if r < 0.18:
        return f"Dr. {p.name}"
    return p.name


def _phone_lines(rng: random.Random, p: _Person, joined: bool) -> list[str]:
    country = p.city[3]
    items = []
    if rng.random() < 0.8:
        items.append(f"{rng.choice(OFFICE_LABELS)} {_phone(rng, country)}")
    if rng.random() < 0.55:
        items.append(f"{rng.choice(MOBILE_LABELS)} {_phone(rng, country)}")
    if rng.random() < 0.15:
        items.append(f"{rng.choice(FAX_LABELS)} {_phone(rng, country)}")
    if not items:
        items.append(_phone(rng, country))
    if rng.random() < 0.12:
        items = [i.split(" ", 1)[1] if " " in i else i for i in items[:1]]
    return [rng.choice((" | ", "  |  ", " / ", " · ", "   ")).join(items)] if joined else items


def _web(rng: random.Random, p: _Person) -> str:
    return rng.choice((f"www.{p.domain}", f"https://{p.domain}", p.domain, f"https://www.{p.domain}/"))


def _social(rng: random.Random, p: _Person) -> str:
    handle = _ascii(f"{p.first}{p.last}".lower().replace(" ", ""))
    return rng.choice(
        (
            f"linkedin.com/in/{handle}",
            f"https://www.linkedin.com/in/{handle}-{rng.randint(10, 99)}",
            f"LinkedIn: linkedin.com/in/{handle}",
            f"Twitter: @{handle[:12]}",
            "LinkedIn | Twitter | Facebook",
            f"github.com/{handle[:10]}",
            f"Follow us: twitter.com/{p.company.split()[0].lower()}",
        )
    )


def _address(rng: random.Random, p: _Person) -> list[str]:
    street, city, country, _ = p.city
    r = rng.random()
    if r < 0.4:
        return [", ".join(x for x in (street, city, country) if x)]
    if r < 0.8:
        return [street, ", ".join(x for x in (city, country) if x)]
    return [x for x in (street, city, country) if x]


def _style_block(rng: random.Random, p: _Person, style: str) -> list[str]:
    name = _name(rng, p)
    lines: list[str]
    if style == "name":
        return [name]
    if style == "first":
        return [rng.choice((p.first, p.first, f"-{p.first}", f"- {p.first}", f"{p.first[0]}.", f"–{p.first[0]}"))]
    if style == "name_title":
        return [name, p.title]
    if style == "name_title_company":
        lines = [name, p.title, p.company]
    elif style == "pipe":
        lines = [name, f"{p.title} | {p.company}"]
        if rng.random() < 0.7:
            lines += _phone_lines(rng, p, joined=True)
        if rng.random() < 0.6:
            lines.append(_web(rng, p))
    elif style == "one_line":
        parts = [name, p.title, p.company]
        if rng.random() < 0.5:
            parts.append(_phone(rng, p.city[3]))
        lines = [rng.choice((" | ", " - ", " · ", ", ")).join(parts)]
    elif style == "full":
        lines = [name, p.title, p.company, *_address(rng, p), *_phone_lines(rng, p, joined=rng.random() < 0.4)]
        if rng.random() < 0.6:
            lines.append(rng.choice((p.email, f"E: {p.email}", f"Email: {p.email}", f"E-mail: {p.email}")))
        if rng.random() < 0.5:
            lines.append(_web(rng, p))
        if rng.random() < 0.3:
            lines.append(_social(rng, p))
    elif style == "title_comma":
        lines = [name, f"{p.title}, {p.company}", *_phone_lines(rng, p, joined=False)]
    elif style == "company_first":
        lines = [p.company, p.title, name, *_address(rng, p), *_phone_lines(rng, p, joined=True), f"E-mail: {p.email}"]
    elif style == "phones_only":
        lines = [name, *_phone_lines(rng, p, joined=rng.random() < 0.5)]
    elif style == "contact_card":
        lines = [
            name,
            p.title,
            "",
            p.company,
            *_address(rng, p),
            "",
            *_phone_lines(rng, p, joined=False),
            p.email,
            _web(rng, p),
        ]
    elif style == "social":
        lines = [name, p.title, _social(rng, p), _social(rng, p)]
    else:  # pragma: no cover
        raise ValueError(style)
    if style in ("full", "contact_card", "company_first") and rng.random() < 0.15:
        lines.append(rng.choice(REGISTRY).format(n=rng.randint(100000, 999999)))
    if rng.random() < 0.1:
        icons = {"phone": "📞 ", "mail": "✉️ ", "web": "🌐 ", "addr": "📍 "}
        lines = [
            (
                icons["phone"]
                if re.search(r"\d{3}", t) and "@" not in t
                else icons["mail"]
                if "@" in t
                else icons["web"]
                if "." in t and " " not in t
                else ""
            )
            + t
            if i
            else t
            for i, t in enumerate(lines)
        ]
    if rng.random() < 0.12:
        lines.insert(1, rng.choice(PRONOUNS))
    if rng.random() < 0.1:
        lines.append(rng.choice(TAGLINES))
    if rng.random() < 0.08:
        lines.append(f"Book a meeting: https://calendly.com/{_ascii(p.first.lower())}-{_ascii(p.last.lower())}")
    return lines


_STYLES = (
    ("name", 10),
    ("first", 14),
    ("name_title", 6),
    ("name_title_company", 8),
    ("pipe", 10),
    ("one_line", 3),
    ("full", 12),
    ("title_comma", 6),
    ("company_first", 3),
    ("phones_only", 5),
    ("contact_card", 4),
    ("social", 3),
    ("none", 9),
    ("signoff_only", 6),
    ("signoff_inline", 3),
)


def _weighted(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    total = sum(w for _, w in options)
    r = rng.uniform(0, total)
    for name, w in options:
        r -= w
        if r <= 0:
            return name
    return options[-1][0]


def _quote_block(rng: random.Random, pools: _Pools, other: _Person) -> list[str]:
    body = _body(rng, pools, "there")
    sig = [rng.choice(SIGNOFFS_EN), other.name, other.title, other.company]
    inner = [*body, "", *sig]
    style = rng.random()
    if style < 0.45:
        stamp = f"Mon, Jun {rng.randint(1, 28)}, 2026 at {rng.randint(1, 12)}:{rng.randint(10, 59)} PM"
        head = f"On {stamp} {other.name} <{other.email}> wrote:"
        return ["", head, *[f"> {x}" if x else ">" for x in inner]]
    if style < 0.8:
        return [
            "",
            "________________________________",
            f"From: {other.name} <{other.email}>",
            f"Sent: Tuesday, June {rng.randint(1, 28)}, 2026 10:{rng.randint(10, 59)} AM",
            "To: Someone <someone@example.com>",
            "Subject: RE: Follow-up",
            "",
            *inner,
        ]
    return [
        "",
        "-----Original Message-----",
        f"From: {other.name} [mailto:{other.email}]",
        "Sent: 02 June 2026 09:14",
        "To: Someone",
        "Subject: Question",
        "",
        *inner,
    ]


def _compose(rng: random.Random, pools: _Pools, ident: str) -> Email:
    p = _person(rng, pools)
    recipient = rng.choice(pools.first)
    style = _weighted(rng, _STYLES)
    lines: list[Line] = [(t, "B") for t in _body(rng, pools, recipient)]
    if rng.random() < 0.07:
        lines = [(rng.choice(QUICK_REPLIES), "B")]
    intl = rng.random() < 0.18
    signoff = rng.choice(SIGNOFFS_INTL if intl else SIGNOFFS_EN)
    mobile = rng.random() < 0.1
    if style == "none":
        pass
    elif style == "signoff_only":
        lines += [("", "B"), (signoff, "B")]
    elif style == "signoff_inline":
        lines += [("", "B"), (f"{signoff.rstrip(',')} {rng.choice((p.first, p.name, '-' + p.first))}", "S")]
    else:
        block = _style_block(rng, p, style)
        lines.append(("", "B"))
        if rng.random() < 0.85:
            lines.append((signoff, "B"))
        if style not in ("first", "name") and rng.random() < 0.2:
            # first name under the sign-off, then the full block
            lines.append((p.first, "S"))
            lines.append(("", "S"))
        if rng.random() < 0.12 and style not in ("first",):
            lines.append((rng.choice(("-- ", "--", "___________________", "—", "━━━━━━━━━━━━━━━━━━━━")), "S"))
        for t in block:
            lines.append((t, "S"))
    footer: list[str] = []
    if mobile:
        footer.append(rng.choice(MOBILE_FOOTERS))
    if rng.random() < 0.1 and not mobile:
        footer.append(rng.choice(DISCLAIMERS))
    for f in footer:
        lines.append(("", "F"))
        lines += [(x, "F") for x in f.split("\n")]
    # Blank lines carry no label of their own: give them the label of the line above.
    fixed: list[Line] = []
    for t, label in lines:
        if not t.strip():
            fixed.append((t, fixed[-1][1] if fixed else "B"))
        else:
            fixed.append((t, label))
    lines = fixed
    if rng.random() < 0.35:
        lines += [(t, "B") for t in _quote_block(rng, pools, _person(rng, pools))]
    r = rng.random()
    if r < 0.7:
        sender: str | None = f"{p.name} <{p.email}>"
    elif r < 0.8:
        sender = p.email
    elif r < 0.85:
        sender = f"{p.company} Support <support@{p.domain}>"
    else:
        sender = None
    return Email(ident, lines, sender, style)


def generate(n: int, seed: int, *, pool_half: int | None = None, prefix: str = "gen") -> Iterator[Email]:
    """`n` synthetic emails from `seed`; `pool_half` 0 or 1 draws from one half of the pools."""
    rng = random.Random(seed)
    pools = _Pools(pool_half)
    for i in range(n):
        yield _compose(rng, pools, f"{prefix}-{seed}-{i:05d}")


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def write_jsonl(path: Path, emails: Sequence[Email] | Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for e in emails:
            row = e.to_json() if isinstance(e, Email) else e
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[Email]:
    emails = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text_lines = row["text"].split("\n")
        labels = row["labels"]
        if len(labels) != len(text_lines):
            raise ValueError(f"{path}: {row['id']}: {len(labels)} labels for {len(text_lines)} lines")
        emails.append(
            Email(row["id"], list(zip(text_lines, labels, strict=True)), row.get("sender"), row.get("style", ""))
        )
    return emails


def read_marked(path: Path) -> list[Email]:
    """Hand-labelled emails in a plain text format that is easy to write and review.

    Each email starts with a header line ``=== <id> | <sender or -> | <sent_at or ->``; every
    following line is one line of the email, prefixed with ``S|`` (signature) or ``F|`` (footer),
    or with nothing (body, quotes). A blank line takes the label of the line above.
    """
    emails: list[Email] = []
    current: Email | None = None
    for raw in path.read_text(encoding="utf-8").split("\n"):
        if raw.startswith("=== "):
            ident, sender, sent_at = ([x.strip() for x in raw[4:].split("|")] + ["-", "-"])[:3]
            current = Email(ident, [], None if sender == "-" else sender, "handwritten", {"sent_at": sent_at})
            emails.append(current)
            continue
        if current is None:
            continue
        if raw.startswith(("S|", "F|")):
            current.lines.append((raw[2:], raw[0]))
        elif not raw.strip():
            current.lines.append(("", current.lines[-1][1] if current.lines else "B"))
        else:
            current.lines.append((raw, "B"))
    for e in emails:  # drop the trailing blank lines that separate emails in the file
        while e.lines and not e.lines[-1][0].strip():
            e.lines.pop()
    return emails
