"""The deterministic Totalum sample data (clients, products, orders, favourites): the shared business
(``sandbox/_business.py``) by default, or the edge cases the tests need (``sample_data="traps"``).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any

from lowcode_sql.sandbox._business import world
from lowcode_sql.sandbox._mongo import MISSING, BDate
from lowcode_sql.sandbox.totalum.values import _Prop

if TYPE_CHECKING:
    from lowcode_sql.sandbox.totalum.platform import TotalumSandbox


# --------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------

_FIRST = ["Ana", "Bruno", "Carla", "Dmitri", "Eva", "Farid", "Greta", "Hugo", "İlkay", "Jürgen", "Kelvin",
          "\u212aarl", "Lena", "Marta", "Nils", "Óscar", "Paula", "Quentin", "Rosa", "Straße", "Tomás", "Uma"]
_LAST = ["García", "Smith", "O'Neil", "Müller", "Nováková", "Rossi", "Dubois", "Y\u0131lmaz", "Kowalski", "Silva"]
_COUNTRIES = ["ES", "FR", "DE", "TR", "US", "PT"]
_CATEGORIES = ["hardware", "software", "services", "books"]
_PRODUCTS = ["Widget", "Gadget (XL)", "Cable [2m]", "Adapter 50% off", "Router*", "Switch+", "Hub?", "Plug^",
             "Lamp $9", "Desk|Chair", "a.b tool", "Screws_100", "back\\slash kit", "Sensor/IoT", "Straße map",
             "İzmir guide", "KELVIN thermometer", "\u212aelvin probe"]
_STATUSES = ["pending", "paid", "shipped", "cancelled"]


def load(sb: TotalumSandbox) -> None:
    """The sample ``sb.sample`` names, seeded by ``sb.seed``."""
    if sb.sample == "business":
        _build_business(sb, random.Random(sb.seed))
    else:
        _build_sample(sb, random.Random(sb.seed))


def _define_tables(sb: TotalumSandbox, countries: list[str], categories: list[str]) -> None:
    sb.define_table("client", [
        _Prop("name", "text", "Name", required=True), _Prop("email", "text", "E-mail"),
        _Prop("country", "options", "Country", choices=tuple(countries)), _Prop("vip", "boolean", "VIP"),
        _Prop("credit", "number", "Credit limit"), _Prop("since", "date", "Client since"),
        _Prop("contract", "file", "Signed contract"),
    ], "Clients")
    sb.define_table("product", [
        _Prop("name", "text", "Name", required=True), _Prop("price", "number", "Price"),
        _Prop("category", "options", "Category", choices=tuple(categories)), _Prop("launched", "date", "Launched"),
    ], "Products")
    sb.define_table("order", [
        _Prop("number", "text", "Order number", required=True),
        _Prop("client", "many-to-one", "Client", target="client"),
        _Prop("product", "many-to-one", "Product", target="product"),
        _Prop("quantity", "number", "Quantity"), _Prop("total", "number", "Total"),
        _Prop("status", "options", "Status", choices=tuple(_STATUSES)), _Prop("ordered", "date", "Ordered at"),
    ], "Orders")
    sb.tables["client"].props["orders"] = _Prop("orders", "one-to-many", "Orders", target="order")
    sb.define_many_to_many("client", "favorites", "product", "fans")


def _build_business(sb: TotalumSandbox, r: random.Random) -> None:
    """The shared business: its customers as clients, its catalogue and its orders."""
    w = world(sb.seed)
    _define_tables(sb, sorted({c.country for c in w.customers}), sorted({p.category for p in w.products}))
    clients = {c.key: sb.add_row("client", {
        "name": c.company, "email": c.email, "country": c.country,
        "vip": c.vip, "credit": c.credit_limit, "since": BDate.of(dt.datetime.combine(c.since, dt.time(), dt.UTC)),
        "contract": {"name": f"contract-{c.key:03d}.pdf"} if c.key % 3 else MISSING,
    }) for c in w.customers}  # fmt: skip
    products = {p.key: sb.add_row("product", {
        "name": p.name, "price": p.price, "category": p.category,
        "launched": BDate.of(dt.datetime.combine(p.launched, dt.time(), dt.UTC)),
    }) for p in w.products}  # fmt: skip
    for o in w.orders:
        sb.add_row("order", {
            "number": o.number, "client": clients[o.customer], "product": products[o.product],
            "quantity": float(o.quantity), "total": o.total, "status": o.status, "ordered": BDate.of(o.ordered),
        })
    for c in clients.values():
        for p in r.sample(list(products.values()), r.choice([0, 1, 2, 3])):
            sb.link("client", "favorites", c, p)


def _build_sample(sb: TotalumSandbox, r: random.Random) -> None:
    """clients, products, orders (many-to-one to both) and clients.favorites <-> products.fans."""
    _define_tables(sb, _COUNTRIES, _CATEGORIES)
    base = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)

    def maybe(v: Any, p_missing: float = 0.08, p_null: float = 0.05) -> Any:
        x = r.random()
        return MISSING if x < p_missing else (None if x < p_missing + p_null else v)

    clients = []
    for i in range(60):
        first, last = _FIRST[i % len(_FIRST)], r.choice(_LAST)
        clients.append(sb.add_row("client", {
            "name": f"{first} {last}",
            "email": maybe(f"{first.lower()}.{i}@example.com"),
            "country": maybe(r.choice(_COUNTRIES)),
            "vip": maybe(r.random() < 0.3),
            "credit": maybe(float(r.choice([0, 500, 1000, 2500, 10000]) + r.choice([0, 0.5]))),
            "since": maybe(BDate.of(base + dt.timedelta(days=r.randrange(-900, 900), seconds=r.randrange(86400)))),
            "contract": maybe({"name": f"contract-{i:03d}.pdf"}, 0.3, 0.1),
        }))
    products = []
    for i, name in enumerate(_PRODUCTS):
        products.append(sb.add_row("product", {
            "name": name, "price": maybe(round(r.uniform(1, 500), 2)),
            "category": maybe(_CATEGORIES[i % len(_CATEGORIES)]),
            "launched": maybe(BDate.of(base + dt.timedelta(days=r.randrange(-2000, 300)))),
        }))
    for i in range(240):
        q = r.randint(1, 9)
        sb.add_row("order", {
            "number": f"ORD-{i:05d}", "client": maybe(r.choice(clients), 0.03, 0.02),
            "product": r.choice(products), "quantity": float(q), "total": maybe(round(q * r.uniform(1, 500), 2)),
            "status": maybe(r.choice(_STATUSES)),
            "ordered": BDate.of(base + dt.timedelta(minutes=r.randrange(0, 2 * 525600))),
        })
    for c in clients:
        for p in r.sample(products, r.choice([0, 0, 1, 2, 3])):
            sb.link("client", "favorites", c, p)
