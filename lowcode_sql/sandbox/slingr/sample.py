"""The deterministic Slingr sample data (modelled on the seed's companies and contacts): the shared
business (``sandbox/_business.py``) by default, or the edge cases the tests need
(``sample_data="traps"``).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from lowcode_sql.sandbox._business import email, world
from lowcode_sql.sandbox.slingr.values import FieldDef

if TYPE_CHECKING:
    from lowcode_sql.sandbox.slingr.platform import SlingrSandbox

# --------------------------------------------------------------------------------------------
# sample data (modelled on the seed's companies / contacts)
# --------------------------------------------------------------------------------------------

_NAMES = ["Browsezoom", "Blogpad", "Jazzy", "Trudoo", "Skiptube", "Voonyx", "Quatz", "Realbridge", "Zoombox",
          "Yodel", "Flashdog", "Twinte", "Meevee", "Oyoloo", "Kwideo", "Linktype", "Dabfeed", "Rhyzio"]
_CITIES = [("Las Vegas", "NV", "89145"), ("San Jose", "CA", "95113"), ("Newark", "NJ", "07102"),
           ("Austin", "TX", "73301"), ("Fresno", "CA", "93650"), ("Trenton", "NJ", "08608")]
_FIRST = ["Diego", "Ana", "John", "Mary", "Li", "Olga", "Ravi", "Zoë", "Émile", "Sam"]
_LAST = ["Gaviola", "Smith", "O'Brien", "Müller", "Nguyen", "Lee", "García", "Kowalski"]
_SKILLS = ["java", "javascript", "sql", "python", "design", "sales"]


def load(sb: SlingrSandbox) -> None:
    """The sample ``sb.sample`` names, seeded by ``sb.seed``."""
    if sb.sample == "business":
        _business(sb, random.Random(sb.seed))
    else:
        _sample(sb, random.Random(sb.seed))


def _epoch_ms(d: dt.datetime) -> int:
    return int(d.timestamp() * 1000)


def _business(sb: SlingrSandbox, r: random.Random) -> None:
    """The business's customers as companies; each one's contact person and a colleague or two."""
    _define_companies(sb)
    w = world(sb.seed)
    last_order = {o.customer: o.ordered for o in w.orders}
    companies = {}
    for c in w.customers:
        slug = c.domain.removesuffix(".example")
        since = dt.datetime.combine(c.since, dt.time(9), dt.UTC)
        companies[c.key] = sb.add_record("companies", {
            "name": c.company, "state": "active" if c.key in last_order else "inactive", "type": c.industry,
            "numberOfEmployees": c.employees, "isCustomer": c.key in last_order,
            "contactInformation": {"phoneNumber": c.phone, "email": f"info@{c.domain}", "id": sb.new_id(),
                                   "label": "Contact Information"},
            "addresses": [{"addressLine": f"{r.randint(1, 250)} Market Street", "zipCode": f"{r.randint(1000, 99999)}",
                           "city": c.city, "state": c.country, "id": sb.new_id(), "label": f"{c.city}, {c.country}"}],
            "homepage": f"https://www.{slug}.example", "taxId": f"{c.country}{r.randrange(10**8, 10**9)}",
            "rating": round(r.uniform(2.5, 5), 1), "notes": None if c.key % 4 else "Prefers delivery before noon",
            "lastMeeting": _epoch_ms(last_order[c.key]) if c.key in last_order else None,
            "lastUpdate": _epoch_ms(since),
        }, label=c.company)  # fmt: skip
    _define_contacts(sb)
    for c in w.customers:
        ref = {"id": companies[c.key]["id"], "label": c.company}
        people = [(c.first_name, c.last_name, c.email, c.birthday, ["purchasing", "finance"])]
        for _ in range(r.choice([0, 1, 1, 2])):
            first, last = r.choice(_FIRST), r.choice(_LAST)
            people.append((first, last, email(first, last, c.domain),
                           dt.date(1965, 1, 1) + dt.timedelta(days=r.randrange(14000)), r.sample(_SKILLS, 2)))
        for first, last, address, birthday, skills in people:
            sb.add_record("contacts", {
                "firstName": first, "lastName": last, "email": address, "company": ref,
                "birthDate": None if birthday is None else birthday.isoformat(), "numberOfSkills": len(skills),
                "skills": skills, "active": True,
            }, label=f"{first} {last}")


def _define_companies(sb: SlingrSandbox) -> None:
    nested_addr = {"addressLine": FieldDef("addressLine", "text"), "zipCode": FieldDef("zipCode", "text"),
                   "city": FieldDef("city", "text"), "state": FieldDef("state", "text")}
    contact_info = {"phoneNumber": FieldDef("phoneNumber", "phone"), "email": FieldDef("email", "email")}
    sb.add_entity("companies", [
        FieldDef("name", "text"), FieldDef("state", "choice"), FieldDef("type", "choice"),
        FieldDef("numberOfEmployees", "integer"), FieldDef("isCustomer", "boolean"),
        FieldDef("contactInformation", "nestedFields", False, contact_info),
        FieldDef("addresses", "nestedFields", True, nested_addr), FieldDef("homepage", "url"),
        FieldDef("taxId", "text"), FieldDef("rating", "decimal"), FieldDef("notes", "longText"),
        FieldDef("lastMeeting", "dateTime"), FieldDef("lastUpdate", "dateTime"),
    ])


def _define_contacts(sb: SlingrSandbox) -> None:
    sb.add_entity("contacts", [
        FieldDef("firstName", "text"), FieldDef("lastName", "text"), FieldDef("email", "email"),
        FieldDef("company", "relationship"), FieldDef("birthDate", "date"),
        FieldDef("numberOfSkills", "integer"), FieldDef("skills", "text", True), FieldDef("active", "boolean"),
    ])


def _sample(sb: SlingrSandbox, r: random.Random) -> None:
    _define_companies(sb)
    companies = []
    for i in range(135):  # the seed's sample answer reports "total": 135
        name = f"{_NAMES[i % len(_NAMES)]}{'' if i < len(_NAMES) else ' ' + str(i // len(_NAMES))}"
        addresses = []
        for _ in range(r.choice([0, 1, 1, 2, 3])):
            city, state, zip_code = r.choice(_CITIES)
            addresses.append({"addressLine": f"{r.randint(1, 999)} Magdeline Place", "zipCode": zip_code,
                              "city": city, "state": state, "id": sb.new_id(), "label": f"{state} - {zip_code}"})
        base = 1429623180000 + r.randrange(0, 3 * 365 * 86400) * 1000
        values = {
            "name": name, "state": r.choice(["pending", "active", "inactive", None]),
            "type": r.choice(["a", "b", "c"]), "numberOfEmployees": r.choice([None, r.randint(1, 5000)]),
            "isCustomer": r.random() < 0.4,
            "contactInformation": {"phoneNumber": f"1-702-845-{r.randint(1000, 9999)}",
                                   "email": f"{name.lower().replace(' ', '')}@example.com",
                                   "id": sb.new_id(), "label": "Contact Information"},
            "addresses": addresses, "homepage": f"http://www.{name.lower().replace(' ', '')}.com",
            "taxId": f"{r.randint(100, 999)}-{''.join(r.choice('KWMXYZ') for _ in range(3))}",
            "rating": r.choice([None, round(r.uniform(0, 5), 1)]),
            "notes": r.choice([None, "modified notes", "ACME, Inc (US)", "it's \"quoted\"", "Ünïcode nötes"]),
            "lastMeeting": r.choice([None, base]), "lastUpdate": base + r.randrange(0, 86400) * 1000,
        }
        companies.append(sb.add_record("companies", values, label=name))
    _define_contacts(sb)
    for _ in range(240):
        first, last = r.choice(_FIRST), r.choice(_LAST)
        company = r.choice([*companies, None])
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=r.randrange(20000))
        skills = r.sample(_SKILLS, r.randint(0, 3))
        sb.add_record("contacts", {
            "firstName": first, "lastName": last, "email": f"{first.lower()}.{r.randint(1, 99)}@example.com",
            "company": None if company is None else {"id": company["id"], "label": company["label"]},
            "birthDate": r.choice([None, birth.isoformat()]), "numberOfSkills": len(skills),
            "skills": skills, "active": r.random() < 0.7,
        }, label=f"{first} {last}")

