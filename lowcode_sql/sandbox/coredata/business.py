"""CoreData's default sample: the shared business (``sandbox/_business.py``) in CoreData's shapes.

The same builder as the edge-case sample (``sample.py``: the same resources, shapes, links and
dates), with the business's names: its customers as Organization contacts, their contact persons
as Person contacts (with the e-mail addresses the other platforms hold), projects named after
the customer they are for, and tasks and files a furniture supplier's projects would have.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lowcode_sql.sandbox._business import Customer, world
from lowcode_sql.sandbox.coredata.sample import _SampleBuilder

if TYPE_CHECKING:
    from lowcode_sql.sandbox.coredata.platform import CoreDataSandbox

_PROJECTS = ["Office fit-out", "Annual supply contract", "Meeting room upgrade", "Remote-work kits",
             "Showroom refurbishment", "Ergonomics assessment", "New branch office", "Kitchen renovation"]
_TASKS = ["Kick-off call", "Measure the rooms", "Send the quote", "Order samples", "Confirm the delivery date",
          "Install the furniture", "Collect feedback", "Follow up on the invoice", "Sign the contract",
          "Plan the floor layout", "Book the installers", "Check the stock"]
_FILES = ["Quote", "Floor plan", "Delivery note", "Signed contract", "Invoice", "Product sheet", "Meeting notes"]


class BusinessBuilder(_SampleBuilder):
    SPACES = ("Sales", "Customers", "Projects", "Archive", "Finance")

    def __init__(self, sandbox: CoreDataSandbox, rng: random.Random) -> None:
        super().__init__(sandbox, rng)
        self.customers = world(sandbox.seed).customers
        self._orgs: Iterator[Customer] = itertools.cycle(self.customers)
        self._people: Iterator[Customer] = itertools.cycle(self.customers)
        self.company_of: dict[str, Customer] = {}  # contact title -> the customer it belongs to

    def title_for(self, kind: str, n: int, null_rate: float = 0.0) -> str | None:
        if kind == "Organization":
            c = next(self._orgs)
            self.company_of[c.company] = c
            return c.company
        if kind == "Person":
            c = next(self._people)
            name = f"{c.first_name} {c.last_name}"
            self.company_of[name] = c
            return name
        if kind == "Project":
            return f"{self.rng.choice(_PROJECTS)} {2021 + n % 6}"
        if kind == "Task":
            return self.rng.choice(_TASKS)
        return f"{self.rng.choice(_FILES)} {1000 + n}"

    def common(self, kind: str, res: str, ident: str, title: str | None, dynatype: dict[str, Any]) -> dict[str, Any]:
        obj = super().common(kind, res, ident, title, dynatype)
        obj["description"] = ""
        obj["tags"] = self.rng.sample(["priority", "framework agreement", "repeat customer"], self.rng.randint(0, 1))
        return obj

    def store(self, res: str, objs: Sequence[tuple[dict[str, Any], dict[str, Any] | None]]) -> None:
        if res == "contacts":
            self._contacts([o for o, _ in objs])
        elif res == "projects":
            for o, _ in objs:  # a project is named after the customer of its first contact
                c = self.company_of.get(o["contacts"][0]["title"]) if o["contacts"] else None
                if c is not None:
                    o["title"] = f"{o['title']} \u2013 {c.company}"
        super().store(res, objs)

    def _contacts(self, contacts: list[dict[str, Any]]) -> None:
        orgs = {o["title"]: o for o in contacts if o["dynatype"]["title"] == "Organization"}
        for o in contacts:
            c = self.company_of[o["title"]]
            if o["dynatype"]["title"] == "Organization":
                o["emails"] = [{"email": f"info@{c.domain}", "label": "email_label:Work:"}]
                o["role"] = "contact_role:customer:"
                continue
            o["emails"] = [{"email": c.email, "label": "email_label:Work:"}]
            org = orgs.get(c.company)
            o["organization"] = {"id": org["id"], "title": org["title"]} if org else None
