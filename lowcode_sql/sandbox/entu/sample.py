"""The deterministic Entu sample database: the shared business (``sandbox/_business.py``: persons,
products, invoices) by default, or the edge cases the tests need (``sample_data="traps"``: persons,
books, invoices).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any

from lowcode_sql.sandbox._business import world
from lowcode_sql.sandbox._mongo import (
    BDate,
    ObjectId,
    days_from_civil,
)
from lowcode_sql.sandbox.entu.data import _num, _PropDef

if TYPE_CHECKING:
    from lowcode_sql.sandbox.entu.platform import EntuSandbox


# --------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------

_FORENAMES = [
    "Anna", "Mari", "Jüri", "İlkay", "Zoë", "José", "Łukasz", "Søren", "Ólafur", "Émile", "Kalle", "Liis",
    "Mart", "Tõnu", "Ülle", "Aivar", "Kadri", "anna", "ANNA", "Ørjan", "Çağla", "Nguyễn", "Ines", "Peeter",
]  # fmt: skip
_SURNAMES = [
    "Tamm", "Saar", "Müller", "Öztürk", "O'Brien", "Smith", "smith", "SMITH", "García", "Straßberg",
    "van der Berg", "Dupont-Lefèvre", "李", "Kask", "Mägi", "Õun", "Kuusk", "Ilves", "Weiß", "Weiss",
]  # fmt: skip
_TITLE_WORDS = [
    "Secret", "Garden", "River", "Night", "Winter", "Empire", "Shadow", "Light", "Stone", "Forest", "City",
    "Ocean", "Dream", "Machine", "Song", "Hidden", "Last", "First", "Silent", "Broken", "Golden", "Iron",
]  # fmt: skip
_SPECIAL_TITLES = [
    "C++ Primer", "What? (Really) [2nd] {ed.} | ^$ \\ / .*", "100% Pure_Python", "a/b/c", "Hello, World",
    "", " Leading space", "Trailing space ", "apple", "Apple", "APPLE", "İstanbul Nights", "Straße der Träume",
    "STRASSE", "Café Crème", "Cafe Creme", "naïve résumé", "📚 Emoji Book 🎉", "Tab\tSeparated", "Line\nBreak",
    "back\\slash", "dollar$sign", "caret^top", "under_score", "quote'single", 'quote"double', "semi;colon",
    "Κόσμε", "ǅungla", "ﬁle ligature", "Ωmega", "zzz last", "0 starts with digit", "a.b.c", "x*y+z?",
    "Supercalifragilisticexpialidocious and more", "tie", "tie", "tie",
]  # fmt: skip
_TAGS = ["classic", "fantasy", "sci-fi", "Sci-Fi", "history", "c++", "c#", "über", "tag with space", "a,b", "%", "_"]
_CURRENCIES = ["EUR", "USD", "GBP", "JPY", "eur", "€"]


def load(sb: EntuSandbox) -> None:
    """The sample ``sb.sample`` names, seeded by ``sb.seed``."""
    if sb.sample == "business":
        _business(sb)
    else:
        _SampleBuilder(sb, random.Random(sb.seed)).build()


def _day(d: dt.date) -> BDate:
    return BDate(days_from_civil(d.year, d.month, d.day) * 86_400_000)


def _business(s: EntuSandbox) -> None:
    """The business's contact persons, its catalogue (tags multi-valued) and one invoice per order."""
    w = world(s.seed)
    s._define_type("person", [
        _PropDef("name", "string", search=True), _PropDef("forename", "string", search=True),
        _PropDef("surname", "string", search=True), _PropDef("email", "string", search=True, list=True),
        _PropDef("company", "string", search=True), _PropDef("birthday", "date"),
    ])  # fmt: skip
    s._define_type("product", [
        _PropDef("name", "string", search=True), _PropDef("sku", "string", search=True),
        _PropDef("category", "string"), _PropDef("price", "number"), _PropDef("launched", "date"),
        _PropDef("in_stock", "boolean"), _PropDef("tags", "string", search=True, list=True),
    ])  # fmt: skip
    s._define_type("invoice", [
        _PropDef("number", "string", search=True), _PropDef("amount", "number"), _PropDef("currency", "string"),
        _PropDef("issued", "datetime"), _PropDef("paid", "boolean"),
        _PropDef("customer", "reference", reference_type="person"),
    ])  # fmt: skip
    people: dict[int, ObjectId] = {}
    for c in w.customers:
        v: dict[str, list[tuple[str, Any]]] = {
            "name": [("string", f"{c.first_name} {c.last_name}")], "forename": [("string", c.first_name)],
            "surname": [("string", c.last_name)], "email": [("string", c.email)], "company": [("string", c.company)],
        }
        if c.birthday is not None:
            v["birthday"] = [("date", _day(c.birthday))]
        people[c.key] = s._add_entity("person", v, search_props=("name", "forename", "surname", "email", "company"))
    for p in w.products:
        s._add_entity("product", {
            "name": [("string", p.name)], "sku": [("string", p.sku)], "category": [("string", p.category)],
            "price": [("number", _num(p.price))], "launched": [("date", _day(p.launched))],
            "in_stock": [("boolean", p.in_stock)], "tags": [("string", t) for t in p.tags],
        }, search_props=("name", "sku", "tags"))  # fmt: skip
    for o in w.orders:
        if o.status == "cancelled":
            continue  # a cancelled order is never invoiced
        s._add_entity("invoice", {
            "number": [("string", o.number)], "amount": [("number", _num(o.total))], "currency": [("string", "EUR")],
            "issued": [("datetime", BDate(int(o.ordered.timestamp() * 1000)))],
            "paid": [("boolean", o.status in ("paid", "shipped"))], "customer": [("reference", people[o.customer])],
        }, search_props=("number",))  # fmt: skip


class _SampleBuilder:
    """Deterministic sample database (``random.Random(seed)``): person (80), book (300), invoice (200)."""

    def __init__(self, sandbox: EntuSandbox, rng: random.Random) -> None:
        self.s = sandbox
        self.r = rng

    def _date(self, y0: int, y1: int) -> BDate:
        days0, days1 = days_from_civil(y0, 1, 1), days_from_civil(y1, 12, 31)
        return BDate(self.r.randint(days0, days1) * 86_400_000)

    def _datetime(self, y0: int, y1: int) -> BDate:
        return BDate(self._date(y0, y1).ms + self.r.randint(0, 86_399_999))

    def build(self) -> None:
        s = self.s
        s._define_type("person", [
            _PropDef("name", "string", search=True), _PropDef("forename", "string", search=True),
            _PropDef("surname", "string", search=True), _PropDef("email", "string", search=True, list=True),
            _PropDef("birthday", "date"), _PropDef("created", "datetime"),
        ])  # fmt: skip
        s._define_type("book", [
            _PropDef("name", "string", search=True), _PropDef("isbn", "string", search=True),
            _PropDef("price", "number"), _PropDef("pages", "number"), _PropDef("published", "date"),
            _PropDef("in_stock", "boolean"), _PropDef("author", "reference", list=True, reference_type="person"),
            _PropDef("tags", "string", search=True, list=True),
        ])  # fmt: skip
        s._define_type("invoice", [
            _PropDef("number", "string", search=True), _PropDef("amount", "number"),
            _PropDef("currency", "string"), _PropDef("issued", "datetime"), _PropDef("paid", "boolean"),
            _PropDef("customer", "reference", reference_type="person"),
        ])  # fmt: skip
        people = [self._person(i) for i in range(80)]
        for i in range(300):
            self._book(i, people)
        for i in range(200):
            self._invoice(i, people)

    def _person(self, i: int) -> ObjectId:
        r = self.r
        fore, sur = _FORENAMES[i % len(_FORENAMES)], r.choice(_SURNAMES)
        v: dict[str, list[tuple[str, Any]]] = {
            "name": [("string", f"{fore} {sur}")],
            "forename": [("string", fore)],
            "surname": [("string", sur)],
        }
        if i % 9 != 4:
            v["email"] = [
                ("string", f"{fore.lower()}.{k}{i}@example.{r.choice(['com', 'ee', 'org'])}")
                for k in range(r.choice([1, 1, 1, 2, 3]))
            ]
        if i == 7:
            v["birthday"] = [("date", BDate(0))]  # 1970-01-01: what an invalid date filter hits
        elif i % 10 != 3:
            v["birthday"] = [("date", self._date(1900, 2010))]
        if i % 20 == 5:
            v["created"] = [("datetime", BDate(1_600_000_000_123))]  # ties
        else:
            v["created"] = [("datetime", self._datetime(2015, 2025))]
        return self.s._add_entity("person", v, search_props=("name", "forename", "surname", "email"))

    def _book(self, i: int, people: list[ObjectId]) -> None:
        r = self.r
        if i < len(_SPECIAL_TITLES):
            title = _SPECIAL_TITLES[i]
        else:
            title = f"The {r.choice(_TITLE_WORDS)} {r.choice(_TITLE_WORDS)}"
        v: dict[str, list[tuple[str, Any]]] = {"name": [("string", title)]}
        if i % 37 == 11:
            v["name"].append(("string", f"{title} (alternative title)"))
        if i % 10 != 7:
            v["isbn"] = [("string", f"978-{r.randint(0, 9)}-{r.randint(1000, 9999)}-{r.randint(100, 999)}-{i % 10}")]
        if i % 10 != 2:
            price = r.choice([9.99, 9.99, 0, 15, 19.5, 4.25]) if i % 4 == 0 else round(r.uniform(1, 120), 2)
            v["price"] = [("number", _num(float(price)))]
            if i % 20 == 6:
                v["price"].append(("number", _num(round(r.uniform(150, 300), 2))))  # two prices: any-element
        special_prices = {13: -1.5, 14: 1e9, 15: 0.30000000000000004, 16: 2**53, 17: -0.0001}
        if i in special_prices:
            v["price"] = [("number", special_prices[i])]
        if i % 3 == 0:
            v["pages"] = [("number", r.randint(10, 2000))]
        if i == 21:
            v["published"] = [("date", BDate(0))]
        elif i % 20 != 9:
            v["published"] = [("date", self._date(1800, 2030))]
        if i % 10 != 5:
            v["in_stock"] = [("boolean", r.random() < 0.6)]
            if i % 33 == 1:
                v["in_stock"] = [("boolean", True), ("boolean", False)]
        if i % 10 != 8:
            v["author"] = [("reference", people[r.randrange(len(people))])]
            if i % 20 == 3:
                v["author"].append(("reference", people[r.randrange(len(people))]))
        if i % 6 != 1:
            v["tags"] = [("string", t) for t in r.sample(_TAGS, r.choice([1, 1, 2, 3, 4]))]
        self.s._add_entity("book", v, search_props=("name", "isbn", "tags"))

    def _invoice(self, i: int, people: list[ObjectId]) -> None:
        r = self.r
        year = 2019 + i % 6
        v: dict[str, list[tuple[str, Any]]] = {
            "number": [("string", f"INV-{year}-{(i if i % 25 else i - 1):04d}")],  # some duplicate numbers
            "amount": [("number", _num(round(r.uniform(-5000, 1_000_000), 2)))],
            "issued": [("datetime", BDate(1_700_000_000_000) if i % 30 == 0 else self._datetime(year, year))],
            "paid": [("boolean", r.random() < 0.5)],
        }
        special = {3: 0, 4: -0.01, 5: 1e12, 6: 123456789012.34, 7: -1e15, 8: 0.1}
        if i in special:
            v["amount"] = [("number", special[i])]
        if i % 12 != 7:
            v["currency"] = [("string", r.choice(_CURRENCIES))]
        if i % 20 != 13:
            v["customer"] = [("reference", people[r.randrange(len(people))])]
        self.s._add_entity("invoice", v, search_props=("number",))
