"""The demo organization's mail: three client projects told in realistic threads, and one email
the engine is not sure about, which waits in Unfiled with its suggestions for the newcomer to file.

Messages are built relative to today (their Date headers lie in the past few weeks), so the
timeline always has past and upcoming events, and they go through the real inbound path
(`ingest_eml --sync`), exactly like forwarded mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime


@dataclass(frozen=True)
class DemoMail:
    key: str
    days_ago: int
    hour: int
    sender: str
    to: str
    subject: str
    body: str
    reply_to_key: str = ""


OWNER = "Olivia Owner <owner@acme.test>"
DESIGNER = "Dan Designer <dan@acme.test>"
HARBOR = "Priya Shah <priya@harborbakery.com>"
NORTHWIND = "Marcus Lee <marcus.lee@northwindlogistics.com>"
BRIGHT = "Sofia Romano <sofia@brightdental.co.uk>"

THREADS: list[DemoMail] = [
    DemoMail(
        "hb1",
        24,
        9,
        HARBOR,
        OWNER,
        "Harbor Bakery website redesign - kickoff",
        "Hi Olivia,\n\nThanks for the proposal. We'd like to go ahead with the website redesign.\n\n"
        "Can we do a kickoff meeting next Tuesday at 10am? Our whole team will join.\n\n"
        "The deposit of $2,400 will be paid by Friday.\n\nBest,\nPriya Shah\nHarbor Bakery",
    ),
    DemoMail(
        "hb2",
        23,
        14,
        OWNER,
        HARBOR,
        "Re: Harbor Bakery website redesign - kickoff",
        "Hi Priya,\n\nGreat news! Tuesday at 10am works, I've sent an invite.\n\n"
        "We will deliver the first homepage mockups by the 15th. Please send us your logo files and "
        "brand colours before then.\n\nOlivia",
        "hb1",
    ),
    DemoMail(
        "hb3",
        12,
        11,
        HARBOR,
        OWNER,
        "Re: Harbor Bakery website redesign - kickoff",
        "Hi Olivia,\n\nWe reviewed the mockups with the team. We decided to go with option B, "
        "the one with the large photo header.\n\nCould you send the revised design by next Friday?\n\n"
        "Thanks,\nPriya",
        "hb2",
    ),
    DemoMail(
        "hb4",
        3,
        16,
        OWNER,
        HARBOR,
        "Harbor Bakery - launch date",
        "Hi Priya,\n\nThe revised design is approved on our side. The site is now in development.\n\n"
        "We're targeting the launch on the 28th. The final invoice of $3,600 is due on launch.\n\n"
        "Olivia",
    ),
    # Unsure on purpose: the client of the website writes about something the website project
    # has no word for. It waits in Unfiled on first sign-in, suggesting the website project or a
    # new "Harbor Bakery – Spring menu boards" project (tests/demo/test_seed_demo.py).
    DemoMail(
        "hb5",
        5,
        11,
        HARBOR,
        OWNER,
        "Spring menu boards",
        "Hi Olivia,\n\nWe're adding a breakfast counter for the spring and need new menu boards to go with it: "
        "three behind the counter and one for the window.\n\nCould you reuse the photos from the website shoot? "
        "We'd like to see a first draft by next Thursday.\n\nThanks,\nPriya Shah\nHarbor Bakery",
    ),
    DemoMail(
        "nw1",
        20,
        10,
        NORTHWIND,
        OWNER,
        "Northwind fleet dashboard - requirements",
        "Hello Olivia,\n\nAs discussed, we need a dashboard for our delivery fleet. Deadline for the "
        "requirements document is this Friday.\n\nLet's schedule a workshop on Thursday next week at 2pm "
        "with our ops team.\n\nRegards,\nMarcus Lee\nNorthwind Logistics",
    ),
    DemoMail(
        "nw2",
        8,
        15,
        NORTHWIND,
        OWNER,
        "Re: Northwind fleet dashboard - requirements",
        "Hi Olivia,\n\nThe workshop has been moved to Monday at 11am because of a public holiday.\n\n"
        "Also: we approved the budget of $18,000 for phase one.\n\nMarcus",
        "nw1",
    ),
    DemoMail(
        "nw3",
        2,
        9,
        DESIGNER,
        OWNER,
        "Northwind fleet dashboard - wireframes",
        "Olivia,\n\nWireframes for the Northwind dashboard are done. Milestone: phase one design complete.\n\n"
        "Action item: Marcus to confirm the map provider by next Wednesday.\n\nDan",
    ),
    DemoMail(
        "bd1",
        15,
        13,
        BRIGHT,
        OWNER,
        "Bright Dental booking app",
        "Dear Olivia,\n\nFollowing our call, we would like you to build the online booking app for "
        "our three clinics.\n\nPlease send the contract by 20/11. The project start is planned for "
        "1 December.\n\nKind regards,\nSofia Romano\nBright Dental",
    ),
    DemoMail(
        "bd2",
        6,
        10,
        OWNER,
        BRIGHT,
        "Re: Bright Dental booking app",
        "Dear Sofia,\n\nThe contract is attached. The project is now on hold until your board signs off.\n\n"
        "Let's have a call on Wednesday at 3pm to go through the open questions.\n\nOlivia",
        "bd1",
    ),
    DemoMail(
        "bd3",
        1,
        17,
        BRIGHT,
        OWNER,
        "Re: Bright Dental booking app",
        "Olivia,\n\nThe board signed off today, so we can restart. Unfortunately Wednesday's call is "
        "cancelled; can we do Thursday at 10am instead?\n\nThe first payment of £4,500 will follow "
        "next week.\n\nSofia",
        "bd2",
    ),
]


def build_messages(now: datetime, inbound_address: str, domain: str = "demo.acme.test") -> list[tuple[str, bytes]]:
    """(filename, raw bytes) for each demo message, oldest first, with stable Message-IDs."""
    ids = {mail.key: f"<demo-{mail.key}@{domain}>" for mail in THREADS}
    out: list[tuple[str, bytes]] = []
    for index, mail in enumerate(sorted(THREADS, key=lambda m: -m.days_ago)):
        message = EmailMessage()
        sent = (now - timedelta(days=mail.days_ago)).replace(hour=mail.hour, minute=5, second=0, microsecond=0)
        message["From"] = mail.sender
        message["To"] = mail.to
        message["Cc"] = inbound_address
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(sent)
        message["Message-ID"] = ids[mail.key]
        if mail.reply_to_key:
            message["In-Reply-To"] = ids[mail.reply_to_key]
            message["References"] = ids[mail.reply_to_key]
        message.set_content(mail.body)
        out.append((f"{index:02d}-{mail.key}.eml", bytes(message)))
    return out


# A client the workspace's allow-list does not name yet, writing to the inbound address: the
# sender policy refuses it, and the owner finds it in the inbox with "Allow this sender".
REFUSED_SENDER = "Jonas Berg <jonas@fjordcoffee.no>"
REFUSED_MESSAGE_ID = "<demo-refused-fjord@fjordcoffee.no>"


def build_refused_message(now: datetime, inbound_address: str) -> bytes:
    message = EmailMessage()
    message["From"] = REFUSED_SENDER
    message["To"] = inbound_address
    message["Subject"] = "Menu boards for our new Bergen café"
    message["Date"] = format_datetime((now - timedelta(days=1)).replace(hour=9, minute=40, second=0, microsecond=0))
    message["Message-ID"] = REFUSED_MESSAGE_ID
    message.set_content(
        "Hi Olivia,\n\nPriya at Harbor Bakery recommended you. We open a second café in Bergen on the "
        "1st of next month and need menu boards and a small sign by then. Could we have a call on "
        "Thursday at 10:00?\n\nBest,\nJonas Berg\nFjord Coffee\n"
    )
    return bytes(message)
