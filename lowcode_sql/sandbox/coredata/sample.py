"""The deterministic CoreData sample data (spaces, contacts, projects, files, tasks), shaped like the
real responses (module docstring of ``lowcode_sql.sandbox.coredata``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lowcode_sql.sandbox.coredata.values import _KNOWN_KINDS, BASE, _iso

if TYPE_CHECKING:
    from lowcode_sql.sandbox.coredata.platform import CoreDataSandbox

# --------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------

# Titles that exercise escaping, case, unicode and ties (docs/DESIGN.md §4 "Case, collation, regex").
_TRICKY_TITLES = [
    "Board meeting", "Board meeting", "board meeting", "Board", "Boardroom", "  Board meeting",
    "Board meeting  ", "Café résumé", "Cafe resume", "CAFÉ", "東京プロジェクト", "東京", "🚀 Launch", "🚀",
    "İstanbul", "istanbul", "ISTANBUL", "Straße", "STRASSE", "strasse", "100% done", "100_ done",
    "100%", "a_b", "a%b", "axb", "back\\slash", "C:\\temp\\new", "O'Brien", "it''s", "a,b", "a, b,c",
    "", "Yfirferð reikninga", "Þjóðhátíð", "Ærslabelgur", "None", "none", "nil", "true", "True",
    "false", "null", "Ωmega", "ωmega", "Zebra", "zebra", "Ämter", "Åland", "x&y=z", "50+50",
    "tab\there", "line\nbreak", "🇮🇸 Ísland", "日本語テキスト", "Ελληνικά", "Русский", "a" * 120,
]  # fmt: skip
_WORDS = [
    "Stjórnarfundur", "Yfirferð", "reikninga", "Rýni", "meginferli", "Mannauður", "Fjárhagsáætlun",
    "Samningur", "Verkefni", "Skýrsla", "Annual", "report", "Budget", "Contract", "Review", "Plan",
    "Meeting", "Minutes", "Invoice", "Proposal", "Launch", "Audit", "Roadmap", "Design",
]  # fmt: skip
_PEOPLE = [
    ("audur", "Auður", "Djúpauga"), ("gudrun", "Guðrún", "Ósvífursdóttir"),
    ("haraldur", "Haraldur", "Bjarnason"), ("oskar", "Óskar Þór", "Þráinsson"),
    ("admin", "Administrator", "Administrator"), ("sigga", "Sigríður", "Jónsdóttir"),
]  # fmt: skip
_MIME = [
    ("pdf", "application/pdf"), ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("png", "image/png"),
    ("txt", "text/plain"), ("jpg", "image/jpeg"),
]  # fmt: skip


class _SampleBuilder:
    """Builds spaces, contacts, projects, files and tasks (about 5/80/60/250/400 objects)."""

    SPACES = ("Fjármál", "Starfsmenn", "Stjórnarfundir", "Upplýsingar", "Space title")

    def __init__(self, sandbox: CoreDataSandbox, rng: random.Random) -> None:
        self.sb = sandbox
        self.rng = rng
        self.shared_times: list[dt.datetime] = []
        self.tricky = list(_TRICKY_TITLES)
        self.dynatypes: dict[str, dict[str, Any]] = {}

    # -- helpers ---------------------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=1))

    def dynatype(self, title: str) -> dict[str, Any]:
        if title not in self.dynatypes:
            self.dynatypes[title] = {
                "caption_plural": f"dynatypes_labels:{title}_plural:",
                "caption_singular": f"dynatypes_labels:{title}_singular:",
                "id": self.uid(),
                "title": title,
            }
        return dict(self.dynatypes[title])

    def timestamp(self) -> dt.datetime:
        """2013-2026, with exact duplicates, midnights and microsecond values."""
        r = self.rng.random()
        if self.shared_times and r < 0.12:
            return self.rng.choice(self.shared_times)
        start = dt.datetime(2013, 1, 1)
        span = int((dt.datetime(2026, 12, 31, 23, 59, 59) - start).total_seconds())
        value = start + dt.timedelta(seconds=self.rng.randrange(span))
        if r < 0.18:
            value = value.replace(hour=0, minute=0, second=0)  # exactly midnight: date == datetime
        elif r < 0.45:
            value = value.replace(microsecond=self.rng.randrange(1, 1_000_000))
        if len(self.shared_times) < 15 and self.rng.random() < 0.2:
            self.shared_times.append(value)
        return value

    def created_modified(self, modified_null: float = 0.04) -> tuple[str, str | None]:
        created = self.timestamp()
        if self.rng.random() < modified_null:
            return _iso(created), None
        # 30% never edited: modified == created (as in the real samples).
        modified = created if self.rng.random() < 0.3 else max(created, self.timestamp())
        return _iso(created), _iso(modified)

    def title(self, n: int, null_rate: float = 0.0) -> str | None:
        if null_rate and self.rng.random() < null_rate:
            return None
        if n == 0:
            self.tricky = list(_TRICKY_TITLES)  # every resource gets the tricky titles, in this order
        if self.tricky and n % 2 == 0:
            return self.tricky.pop(0)
        words = self.rng.sample(_WORDS, self.rng.randint(1, 3))
        return " ".join(words) + (f" {self.rng.randint(1, 30)}" if self.rng.random() < 0.5 else "")

    def title_for(self, kind: str, n: int, null_rate: float = 0.0) -> str | None:
        """The title of the n-th object of ``kind`` (Organization, Person, Project, File, Task)."""
        return self.title(n, null_rate)

    def person(self, null_rate: float = 0.2) -> str | None:
        if self.rng.random() < null_rate:
            return None
        _, first, last = self.rng.choice(_PEOPLE)
        return f"{first} {last}"

    def common(self, kind: str, res: str, ident: str, title: str | None, dynatype: dict[str, Any]) -> dict[str, Any]:
        created, modified = self.created_modified()
        return {
            "aspects": {},
            "created": created,
            "created_by": self.person(0.15),
            "description": self.rng.choice(
                ["", "", "Lýsing á verkefni", None, "Multi\nline \u2013 \u2018quoted\u2019"]
            ),
            "dynatype": dynatype,
            "id": ident,
            "modified": modified,
            "modified_by": self.person(0.6),
            "resource_uri": f"{BASE}{res}/{ident}/",
            "snapshot_id": self.uid(),
            "tags": self.rng.sample(["mánaðarmót", "urgent", "2014", "ársreikningur", "Ω"], self.rng.randint(0, 2)),
            "title": title,
            "type": kind,
            "version": self.rng.choice(["None.0", "0.1", "0.2", "1.0"]),
        }

    def store(self, res: str, objs: Sequence[tuple[dict[str, Any], dict[str, Any] | None]]) -> None:
        kinds: dict[str, str] = {}
        for obj, hidden in objs:
            for k in list(obj) + list(hidden or {}):
                kinds.setdefault(k, _KNOWN_KINDS.get(k, "other"))
        resource = self.sb._new_resource(res, kinds)
        for obj, hidden in objs:
            resource.add(obj, hidden)
        self.sb.resources[res] = resource

    # -- resources -------------------------------------------------------------------------

    def build(self) -> None:
        rng = self.rng
        spaces = []
        for title in self.SPACES:
            sid = self.uid()
            obj = self.common("Space", "spaces", sid, title, {})
            obj.update(
                {
                    "is_hidden": title == self.SPACES[3],
                    "path": f"/domain/spaces/{title}",
                    "status": rng.choice(["space_status:active:", ""]),
                    "template": None,
                }
            )
            spaces.append((obj, None))
        self.store("spaces", spaces)
        space_refs = [{"id": o["id"], "title": o["title"]} for o, _ in spaces]

        contacts = []
        ssn_pool: list[str] = []
        for n in range(80):
            cid = self.uid()
            org = rng.random() < 0.25
            obj = self.common(
                "Contact", "contacts", cid, self.title_for("Organization" if org else "Person", n, 0.03),
                self.dynatype("Organization" if org else "Person"),
            )
            r = rng.random()
            if r < 0.08:
                identifier: str | None = None
            elif r < 0.15:
                identifier = ""  # the real contact sample has identifier ""
            elif r < 0.25 and ssn_pool:
                identifier = rng.choice(ssn_pool)  # duplicate identifiers
            else:
                identifier = f"{rng.choice(['600010', '010203', '120389', '600101'])}{rng.randrange(10_000):04d}"
                ssn_pool.append(identifier)
            emails = [
                {"email": f"user{n}.{k}@example.is", "label": rng.choice(["email_label:Work:", "email_label:Home:"])}
                for k in range(rng.choice([0, 1, 1, 2]))
            ]
            phones = [
                {"label": "phone_label:Mobile:", "number": f"+354{rng.randrange(10**6, 10**7)}"}
                for _ in range(rng.choice([0, 1, 2]))
            ]
            obj.update(
                {
                    "contact_addresses": [],
                    "emails": emails,
                    "identifier": identifier,
                    "organization": None,
                    "phones": phones,
                    "role": rng.choice(["contact_role:customer:", "contact_role:supplier:", None]),
                    "status": rng.choice(["contact_status:Active:", "contact_status:Inactive:"]),
                    "urls": [],
                }
            )
            contacts.append((obj, None))
        orgs = [o for o, _ in contacts if o["dynatype"]["title"] == "Organization"]
        for o, _ in contacts:
            if o["dynatype"]["title"] == "Person" and orgs and rng.random() < 0.4:
                org_obj = rng.choice(orgs)
                o["organization"] = {"id": org_obj["id"], "title": org_obj["title"]}
        self.store("contacts", contacts)
        contact_titles = {o["id"]: o["title"] for o, _ in contacts}
        contact_ids = list(contact_titles)

        def people() -> list[dict[str, str]]:
            return [
                {"first_name": first, "last_name": last, "username": user}
                for user, first, last in rng.sample(_PEOPLE, rng.randint(0, 2))
            ]

        projects = []
        folders: dict[str, list[str]] = {}
        for n in range(60):
            pid = self.uid()
            obj = self.common(
                "Project", "projects", pid, self.title_for("Project", n, 0.03),
                self.dynatype(rng.choice(["Project", "Case"])),
            )
            year = rng.randint(2013, 2026)
            ident = None if rng.random() < 0.1 else f"{year}-{rng.randint(1, 40)}"
            assoc = rng.sample(contact_ids, rng.choice([0, 0, 1, 1, 2, 3]))
            responsible = people()
            start = self.timestamp()
            obj.update(
                {
                    "aspects": {
                        "timespan": {"all_day": rng.random() < 0.5, "end_time": _iso(start), "start_time": _iso(start)}
                    },
                    "associated_contacts_id": assoc,
                    "associated_users": [],
                    "connected_users": [p["username"] for p in responsible],
                    "contacts": [{"id": c, "title": contact_titles[c]} for c in assoc],
                    "due_date": None if rng.random() < 0.6 else _iso(self.timestamp()),
                    "identifier": ident,
                    "responsible_users": responsible,
                    "space": dict(rng.choice(space_refs)),
                    "status": rng.choice(["space_status:active:", "space_status:closed:"]),
                    "status_message": "",
                }
            )
            folders[pid] = [self.uid() for _ in range(rng.randint(1, 3))]
            projects.append((obj, None))
        self.store("projects", projects)
        project_objs = [o for o, _ in projects]

        def project_ref(p: dict[str, Any]) -> dict[str, Any]:
            return {"id": p["id"], "identifier": p["identifier"], "title": p["title"]}

        files = []
        for n in range(250):
            fid = self.uid()
            name = self.title_for("File", n, 0.03)
            ext, mime = rng.choice(_MIME)
            project = rng.choice(project_objs) if rng.random() < 0.9 else None
            obj = self.common("File", "files", fid, name, self.dynatype(rng.choice(["File", "File", "Report"])))
            data = f"{fid}{n}".encode()
            size = 0 if rng.random() < 0.3 else rng.randrange(1, 50_000_000)
            obj.update(
                {
                    "aspects": {"digitalsignature": {"digital_signature": ""}},
                    "category": "main",
                    "digest": hashlib.md5(data).hexdigest() if size else "",
                    "filename": f"{name if name else 'untitled'}.{ext}",
                    "folder": None,
                    "mime_type": mime,
                    "owner": None,
                    "parent": rng.choice(folders[project["id"]]) if project else None,
                    "project": project_ref(project) if project else None,
                    "size": size,
                    "space": dict(project["space"]) if project else dict(rng.choice(space_refs)),
                }
            )
            assoc = list(project["associated_contacts_id"]) if project else []
            if rng.random() < 0.2:
                extra = rng.choice(contact_ids)
                if extra not in assoc:
                    assoc.append(extra)
            files.append((obj, {"associated_contacts_id": assoc}))  # hidden: not in the real file shape
        self.store("files", files)

        tasks = []
        for n in range(400):
            tid = self.uid()
            project = rng.choice(project_objs)  # every task is linked to a project
            obj = self.common("Task", "tasks", tid, self.title_for("Task", n, 0.02), self.dynatype("timetask"))
            start = self.timestamp()
            assoc = [c for c in project["associated_contacts_id"] if rng.random() < 0.7]
            responsible = people()
            obj.update(
                {
                    "aspects": {
                        "timespan": {"all_day": rng.random() < 0.5, "end_time": _iso(start), "start_time": _iso(start)}
                    },
                    "associated_contacts_id": assoc,
                    "associated_users": [],
                    "connected_users": [p["username"] for p in responsible],
                    "contacts": [{"id": c, "title": contact_titles[c]} for c in assoc],
                    "due_date": None if rng.random() < 0.5 else _iso(self.timestamp()),
                    "project": project_ref(project),
                    "responsible_users": responsible,
                    "space": dict(project["space"]),
                    "status": rng.choice(["space_status:active:", "space_status:closed:"]),
                    "status_message": "",
                }
            )
            tasks.append((obj, None))
        self.store("tasks", tasks)

