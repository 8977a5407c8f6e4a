"""Table-driven tests of reply/forward splitting and signature splitting.

Conventions (see the golden fixtures too):

- `split_reply` cuts quoted replies and forwarded messages, including their attribution line
  ("On ... wrote:") or header block; it leaves the signature alone.
- `split_signature`: a sign-off phrase line ("Best regards,", "Thanks,") stays in the body and
  the signature starts at the line after it. The "-- " delimiter line belongs to neither part.
  Mobile footers ("Sent from my iPhone") are signature.

Texts are compared after `_norm`: CRLF -> LF, trailing spaces of each line dropped, runs of
blank lines collapsed to one, outer whitespace stripped.
"""

from __future__ import annotations

import re

import pytest

from intel.parse.quotes import split_reply
from intel.parse.signature import split_signature


def _norm(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


JANE = "Jane Doe <jane.doe@harborlight.example>"
QUOTE = "> Can we meet on Tuesday at 10?\n>\n> Jane\n"
NEW = "Sounds good, see you Tuesday."

# (text, expected new_text, a phrase the quoted text must contain or None for "nothing cut")
REPLY_CASES = [
    pytest.param(
        f"{NEW}\n\nOn Mon, Jun 1, 2026 at 9:14 AM {JANE} wrote:\n\n{QUOTE}",
        NEW,
        "Can we meet on Tuesday at 10?",
        id="gmail-en",
    ),
    pytest.param(
        f"{NEW}\n\nOn Mon, Jun 1, 2026 at 9:14 AM {JANE}\nwrote:\n\n{QUOTE}",
        NEW,
        "Can we meet on Tuesday at 10?",
        id="gmail-en-wrapped-before-wrote",
    ),
    pytest.param(
        f"{NEW}\n\nOn Mon, Jun 1, 2026 at 9:14 AM Jane Doe <\njane.doe@harborlight.example> wrote:\n\n{QUOTE}",
        NEW,
        "Can we meet on Tuesday at 10?",
        id="gmail-en-wrapped-inside-address",
    ),
    pytest.param(
        f"{NEW}\n\nOn Mon, Jun 1, 2026 at 9:14\u202fAM {JANE} wrote:\n\n{QUOTE}",
        NEW,
        "Can we meet on Tuesday at 10?",
        id="gmail-en-narrow-nbsp-before-am",
    ),
    pytest.param(
        f"Passt mir gut.\n\nAm Mo., 1. Juni 2026 um 09:14 Uhr schrieb {JANE}:\n\n> Passt dir Freitag?\n",
        "Passt mir gut.",
        "Passt dir Freitag?",
        id="gmail-de",
    ),
    pytest.param(
        f"C'est parfait.\n\nLe lun. 1 juin 2026 \u00e0 09:14, {JANE} a \u00e9crit :\n\n> On se voit jeudi ?\n",
        "C'est parfait.",
        "On se voit jeudi ?",
        id="gmail-fr",
    ),
    pytest.param(
        f"C'est parfait.\n\nLe lun. 1 juin 2026 \u00e0 09:14, {JANE} a \u00e9crit\u00a0:\n\n> On se voit jeudi ?\n",
        "C'est parfait.",
        "On se voit jeudi ?",
        id="gmail-fr-nbsp-before-colon",
    ),
    pytest.param(
        "Thanks, the labels are fine.\n\nBest regards,\nMarta\n\n"
        "________________________________\n"
        f"From: {JANE}\n"
        "Sent: Tuesday, June 2, 2026 3:05 PM\n"
        "To: Marta Keller <m.keller@hollowpine.example>\n"
        "Subject: Pallet labels\n\n"
        "Hi Marta, the label templates are attached.\n",
        "Thanks, the labels are fine.\n\nBest regards,\nMarta",
        "the label templates are attached",
        id="outlook-underscores",
    ),
    pytest.param(
        "Thanks, the labels are fine.\n\n"
        f"From: {JANE}\n"
        "Sent: Tuesday, June 2, 2026 3:05 PM\n"
        "To: Marta Keller <m.keller@hollowpine.example>\n"
        "Cc: Daniel Ortiz <daniel.ortiz@hollowpine.example>\n"
        "Subject: Pallet labels\n\n"
        "Hi Marta, the label templates are attached.\n",
        "Thanks, the labels are fine.",
        "the label templates are attached",
        id="outlook-header-block-without-separator",
    ),
    pytest.param(
        "Same labels, plus the customs sticker.\n\nDaniel\n\n"
        "-----Original Message-----\n"
        "From: Jane Doe [mailto:jane.doe@harborlight.example] \n"
        "Sent: Tuesday, June 02, 2026 4:10 PM\n"
        "To: Daniel Ortiz\n"
        "Subject: RE: Pallet labels\n\n"
        "Do the Antwerp pallets need the same labels?\n",
        "Same labels, plus the customs sticker.\n\nDaniel",
        "Do the Antwerp pallets need the same labels?",
        id="outlook-original-message",
    ),
    pytest.param(
        "Donnerstag geht.\n\n"
        f"Von: {JANE}\n"
        "Gesendet: Montag, 1. Juni 2026 09:14\n"
        "An: J\u00fcrgen Wei\u00df <j.weiss@nordlicht-spedition.example>\n"
        "Betreff: Lieferung KW 23\n\n"
        "K\u00f6nnen wir verschieben?\n",
        "Donnerstag geht.",
        "K\u00f6nnen wir verschieben?",
        id="outlook-de",
    ),
    pytest.param(
        "C'est not\u00e9.\n\n"
        f"De : {JANE}\n"
        "Envoy\u00e9 : lundi 1 juin 2026 09:14\n"
        "\u00c0 : \u00c9lise Martin <elise.martin@rivegauche-conseil.example>\n"
        "Objet : Commande\n\n"
        "Pouvez-vous confirmer la commande ?\n",
        "C'est not\u00e9.",
        "Pouvez-vous confirmer la commande ?",
        id="outlook-fr",
    ),
    pytest.param(
        "Works for me.\n\n"
        f"From: {JANE}\n"
        "Date: Monday, 1 June 2026 at 09:14\n"
        "To: Tom Rivera <tom.rivera@brightwater.example>\n"
        "Subject: Rates\n\n"
        "Are the Q3 rates OK?\n",
        "Works for me.",
        "Are the Q3 rates OK?",
        id="outlook-mac-date-instead-of-sent",
    ),
    pytest.param(
        f"Room booked.\n\nCheers,\nLena\n\nOn 1 Jun 2026, at 09:14, {JANE} wrote:\n\n"
        "> Could we meet next week?\n> \n> Jane\n",
        "Room booked.\n\nCheers,\nLena",
        "Could we meet next week?",
        id="apple-mail",
    ),
    pytest.param(
        "Great, thanks!\n\nSent from my iPhone\n\n"
        f"> On Jun 1, 2026, at 09:14, {JANE} wrote:\n> \n> Are you coming at 3?\n",
        "Great, thanks!\n\nSent from my iPhone",
        "Are you coming at 3?",
        id="iphone-quoted-attribution",
    ),
    pytest.param(
        "Looks good to me.\n\nOn 01/06/2026 09:14, Jane Doe wrote:\n> Draft attached.\n>\n> Jane\n",
        "Looks good to me.",
        "Draft attached.",
        id="thunderbird",
    ),
    pytest.param(
        " Sure, I'll send it today.\n\nRegards,\nKen\n\n"
        f"    On Monday, June 1, 2026, 09:14:22 AM GMT+2, {JANE} wrote:  \n \n"
        " Hi Ken,\n\nCould you send me the signed invoice?\n\nThanks,\nJane\n",
        "Sure, I'll send it today.\n\nRegards,\nKen",
        "Could you send me the signed invoice?",
        id="yahoo-unquoted-indented-attribution",
    ),
    pytest.param(
        "On Mon, Jun 01, 2026 at 09:14:22AM +0200, Jane Doe wrote:\n> Ship on Friday?\n\nYes, Friday is fine.\n",
        "Yes, Friday is fine.",
        "Ship on Friday?",
        id="mutt-bottom-post",
    ),
    pytest.param(
        "Agreed.\n\n> Should we ship on Friday?\n> Or Monday?\n",
        "Agreed.",
        "Should we ship on Friday?",
        id="quote-without-attribution",
    ),
    pytest.param(
        "Fine by me.\n\n> OK for everyone?\n>> Ship on Friday?\n>>> Stock is ready.\n",
        "Fine by me.",
        "Stock is ready.",
        id="nested-quotes",
    ),
    pytest.param(
        "On Mon, 1 Jun 2026 09:14:22 +0200, Jane Doe wrote:\n"
        "> Can you do Tuesday at 10?\n"
        "Yes, Tuesday at 10 works.\n\n"
        "> And could you bring the inspection report?\n"
        "I'll bring a printed copy.\n\n"
        "Cheers,\nTom\n",
        "Yes, Tuesday at 10 works.\n\nI'll bring a printed copy.\n\nCheers,\nTom",
        "And could you bring the inspection report?",
        id="bottom-posted-inline",
    ),
    pytest.param(
        f"On Mon, Jun 1, 2026 at 9:14 AM {JANE} wrote:\n"
        "> The release is ready.\n> Shall we ship it?\n\n"
        "Agreed, let's ship it.\n",
        "Agreed, let's ship it.",
        "Shall we ship it?",
        id="bottom-post-after-full-quote",
    ),
    pytest.param(
        "FYI, can you handle this one?\n\nThanks,\nTom\n\n"
        "---------- Forwarded message ---------\n"
        "From: Carla Mendes <carla.mendes@saltmarsh-retail.example>\n"
        "Date: Mon, Jun 1, 2026 at 9:14 AM\n"
        "Subject: Damaged goods\n"
        "To: <support@brightwater.example>\n\n\n"
        "Three cartons arrived crushed.\n",
        "FYI, can you handle this one?\n\nThanks,\nTom",
        "Three cartons arrived crushed.",
        id="gmail-forward",
    ),
    pytest.param(
        "Kannst du das \u00fcbernehmen?\n\n"
        "---------- Weitergeleitete Nachricht ---------\n"
        "Von: Carla Mendes <carla.mendes@saltmarsh-retail.example>\n"
        "Date: Mo., 1. Juni 2026 um 09:14 Uhr\n"
        "Subject: Besch\u00e4digte Ware\n"
        "To: <support@brightwater.example>\n\n\n"
        "Drei Kartons sind besch\u00e4digt angekommen.\n",
        "Kannst du das \u00fcbernehmen?",
        "Drei Kartons sind besch\u00e4digt angekommen.",
        id="gmail-forward-de",
    ),
    pytest.param(
        "Please see below.\n\nBegin forwarded message:\n\n"
        "From: Carla Mendes <carla.mendes@saltmarsh-retail.example>\n"
        "Subject: Damaged goods\n"
        "Date: 1 June 2026 at 09:14:22 CEST\n"
        "To: Lena Fischer <lena@quayside-studio.example>\n\n"
        "We would prefer a credit note.\n",
        "Please see below.",
        "We would prefer a credit note.",
        id="apple-forward",
    ),
    pytest.param(
        "On Mon, Jun 1, 2026 at 9:14 AM Jane Doe <jane.doe@harborlight.example> wrote:\r\n\r\n> Ship on Friday?\r\n",
        "",
        "Ship on Friday?",
        id="quote-only-crlf",
    ),
    pytest.param(
        "Sounds good.\r\n\r\nOn Mon, Jun 1, 2026 at 9:14 AM Jane Doe <jane.doe@harborlight.example>"
        " wrote:\r\n\r\n> Ship on Friday?\r\n",
        "Sounds good.",
        "Ship on Friday?",
        id="gmail-en-crlf",
    ),
    # ---- nothing to cut
    pytest.param(
        "Please send the invoice by Friday.\n\nThanks,\nTom",
        "Please send the invoice by Friday.\n\nThanks,\nTom",
        None,
        id="no-quote",
    ),
    pytest.param("", "", None, id="empty"),
    # ---- false-positive guards: none of these may be cut
    pytest.param(
        "Hi Jane,\n\nJust a quick update. On Monday we wrote the report and sent it to finance, "
        "so you should have it by now.\n\nTom",
        "Hi Jane,\n\nJust a quick update. On Monday we wrote the report and sent it to finance, "
        "so you should have it by now.\n\nTom",
        None,
        id="guard-on-monday-we-wrote-mid-paragraph",
    ),
    pytest.param(
        "Hi Jane,\n\nOn Monday we wrote the report and sent it to finance.\nThey will reply by Friday.\n\nTom",
        "Hi Jane,\n\nOn Monday we wrote the report and sent it to finance.\nThey will reply by Friday.\n\nTom",
        None,
        id="guard-on-monday-we-wrote-at-line-start",
    ),
    pytest.param(
        "On Monday, Jane wrote: the figures need checking.\nI checked them and they are fine.",
        "On Monday, Jane wrote: the figures need checking.\nI checked them and they are fine.",
        None,
        id="guard-on-wrote-colon-inside-sentence",
    ),
    pytest.param(
        "Quick summary below.\n\nFrom: our legal team\n"
        "The contract needs one more signature before Friday.\n\nThanks,\nTom",
        "Quick summary below.\n\nFrom: our legal team\n"
        "The contract needs one more signature before Friday.\n\nThanks,\nTom",
        None,
        id="guard-from-line-in-prose",
    ),
    pytest.param(
        "We can do 40 -- maybe 45 -- units per week.\n--\nLet me know by Friday.",
        "We can do 40 -- maybe 45 -- units per week.\n--\nLet me know by Friday.",
        None,
        id="guard-double-dash-in-prose",
    ),
    pytest.param(
        "As Jane wrote: the deadline moved to Friday.\nPlease plan accordingly.",
        "As Jane wrote: the deadline moved to Friday.\nPlease plan accordingly.",
        None,
        id="guard-wrote-in-prose",
    ),
    pytest.param(
        "Orders > 500 EUR need approval from finance.\nSmaller orders can go ahead.",
        "Orders > 500 EUR need approval from finance.\nSmaller orders can go ahead.",
        None,
        id="guard-greater-than-mid-line",
    ),
    pytest.param(
        "Agenda\n-----\n1. Budget\n2. Hiring\n\nSee you at 10.",
        "Agenda\n-----\n1. Budget\n2. Hiring\n\nSee you at 10.",
        None,
        id="guard-dash-rule-in-prose",
    ),
    pytest.param(
        "I forwarded the message to Ann yesterday; she will reply today.\nOriginal message IDs are in the ticket.",
        "I forwarded the message to Ann yesterday; she will reply today.\nOriginal message IDs are in the ticket.",
        None,
        id="guard-forwarded-and-original-message-in-prose",
    ),
]


@pytest.mark.parametrize(("text", "new", "quoted_phrase"), REPLY_CASES)
def test_split_reply(text: str, new: str, quoted_phrase: str | None) -> None:
    got_new, got_quoted = split_reply(text)
    assert _norm(got_new) == _norm(new)
    if quoted_phrase is None:
        assert got_quoted.strip() == ""
    else:
        assert quoted_phrase in got_quoted


BODY = "Can you confirm the delivery date?"

# (text, sender_name, expected body, expected signature)
SIGNATURE_CASES = [
    pytest.param(
        f"{BODY}\n\n-- \nTom Rivera\nBrightwater Foods",
        "",
        BODY,
        "Tom Rivera\nBrightwater Foods",
        id="dash-space-delimiter",
    ),
    pytest.param(
        f"{BODY}\n\n--\nTom Rivera\nBrightwater Foods",
        "",
        BODY,
        "Tom Rivera\nBrightwater Foods",
        id="dash-delimiter-trailing-space-lost",
    ),
    pytest.param(
        "Thank you for your order.\n\nBest regards,\nHannah Okafor\nCustomer Service Team Lead\n"
        "Greenfield Packaging Ltd\nPhone: +44 161 555 0147",
        "",
        "Thank you for your order.\n\nBest regards,",
        "Hannah Okafor\nCustomer Service Team Lead\nGreenfield Packaging Ltd\nPhone: +44 161 555 0147",
        id="best-regards-name-title-company-phone",
    ),
    pytest.param(f"{BODY}\n\nThanks,\nTom", "", f"{BODY}\n\nThanks,", "Tom", id="thanks-name"),
    pytest.param(f"{BODY}\n\nThanks!\nTom", "", f"{BODY}\n\nThanks!", "Tom", id="thanks-bang-name"),
    pytest.param(f"{BODY}\n\nBest,\nTom Rivera", "", f"{BODY}\n\nBest,", "Tom Rivera", id="best"),
    pytest.param(f"{BODY}\n\nCheers,\nLena", "", f"{BODY}\n\nCheers,", "Lena", id="cheers"),
    pytest.param(
        f"{BODY}\n\nKind regards,\n\nMarta Keller\nSenior Buyer\nHollow Pine Logistics GmbH",
        "",
        f"{BODY}\n\nKind regards,",
        "Marta Keller\nSenior Buyer\nHollow Pine Logistics GmbH",
        id="kind-regards-blank-line-before-name",
    ),
    pytest.param(
        "Regards,\nKen Watanabe\nSales | Watanabe Trading\nken@watanabe-trading.example\nwww.watanabe-trading.example",
        "",
        "Regards,",
        "Ken Watanabe\nSales | Watanabe Trading\nken@watanabe-trading.example\nwww.watanabe-trading.example",
        id="regards-contact-lines-only",
    ),
    pytest.param(
        "Wir verschieben auf Donnerstag.\n\nMit freundlichen Gr\u00fc\u00dfen\n"
        "J\u00fcrgen Wei\u00df\nDisposition\nNordlicht Spedition GmbH",
        "",
        "Wir verschieben auf Donnerstag.\n\nMit freundlichen Gr\u00fc\u00dfen",
        "J\u00fcrgen Wei\u00df\nDisposition\nNordlicht Spedition GmbH",
        id="de-mit-freundlichen-gruessen",
    ),
    pytest.param(
        "Das passt mir gut.\n\nViele Gr\u00fc\u00dfe\nStefan",
        "",
        "Das passt mir gut.\n\nViele Gr\u00fc\u00dfe",
        "Stefan",
        id="de-viele-gruesse",
    ),
    pytest.param(
        "Je vous confirme la r\u00e9union.\n\nCordialement,\n\u00c9lise Martin\nRive Gauche Conseil",
        "",
        "Je vous confirme la r\u00e9union.\n\nCordialement,",
        "\u00c9lise Martin\nRive Gauche Conseil",
        id="fr-cordialement",
    ),
    pytest.param(
        "Sounds good.\n\nSent from my iPhone",
        "",
        "Sounds good.",
        "Sent from my iPhone",
        id="sent-from-my-iphone",
    ),
    pytest.param("Noted.\n\nSent from my iPad", "", "Noted.", "Sent from my iPad", id="sent-from-my-ipad"),
    pytest.param(
        "OK, noted.\n\nGet Outlook for Android",
        "",
        "OK, noted.",
        "Get Outlook for Android",
        id="get-outlook-for-android",
    ),
    pytest.param(
        "Sure.\n\nThanks,\nTom\n\nSent from my iPhone",
        "",
        "Sure.\n\nThanks,",
        "Tom\n\nSent from my iPhone",
        id="sign-off-name-and-mobile-footer",
    ),
    pytest.param(
        "Please see the attached price list.\n\nTom Rivera\nHead of Logistics\nBrightwater Foods\n+44 20 7946 0321",
        "Tom Rivera",
        "Please see the attached price list.",
        "Tom Rivera\nHead of Logistics\nBrightwater Foods\n+44 20 7946 0321",
        id="name-block-without-sign-off-found-by-sender-name",
    ),
    pytest.param("Thanks,\r\nTom\r\n", "", "Thanks,", "Tom", id="crlf"),
    # ---- nothing to cut
    pytest.param(BODY, "", BODY, "", id="no-signature"),
    pytest.param("", "", "", "", id="empty"),
    pytest.param(f"{BODY}\n\nThanks!", "", f"{BODY}\n\nThanks!", "", id="sign-off-without-name"),
    pytest.param(
        "We can do 40 -- maybe 45 -- units per week.\nLet me know by Friday.",
        "",
        "We can do 40 -- maybe 45 -- units per week.\nLet me know by Friday.",
        "",
        id="guard-double-dash-in-prose",
    ),
    pytest.param(
        "Agenda for Friday:\n-- budget review\n-- hiring plan\n-- office move",
        "",
        "Agenda for Friday:\n-- budget review\n-- hiring plan\n-- office move",
        "",
        id="guard-double-dash-list-items",
    ),
    pytest.param(
        "Thanks, that helps a lot. I will forward it to the team today.",
        "",
        "Thanks, that helps a lot. I will forward it to the team today.",
        "",
        id="guard-thanks-opening-a-sentence",
    ),
    pytest.param(
        "Please give my best regards to Ann.\nSee you on Friday.",
        "",
        "Please give my best regards to Ann.\nSee you on Friday.",
        "",
        id="guard-best-regards-in-prose",
    ),
]


@pytest.mark.parametrize(("text", "sender_name", "body", "signature"), SIGNATURE_CASES)
def test_split_signature(text: str, sender_name: str, body: str, signature: str) -> None:
    got_body, got_signature = split_signature(text, sender_name)
    assert (_norm(got_body), _norm(got_signature)) == (_norm(body), _norm(signature))
