"""One small, plausible business that every emulator's default sample data is cut from.

A wholesaler of office furniture and equipment ("Acme Office Supply"): its customers (companies,
each with a contact person), its product list with real-looking prices, and two years of orders.
Every platform serves a view of the *same* business in its own data model, so the demo can join
across platforms by the keys a real company would share between its systems:

* order numbers (``NL100001``...): Totalum ``order.number``, Entu ``invoice.number``, the Alumio
  order tasks' ``incrementId`` and the ``order-sync-state`` storage;
* customer e-mail addresses: Totalum ``client.email``, Entu ``person.email``, Slingr
  ``contacts.email``, CoreData ``contacts.emails``, Alumio's customer tasks and ``customer-map``;
* company names: Totalum ``client.name``, Slingr ``companies.name``, CoreData organizations;
* SKUs (``SKU-1001``...): Entu ``product.sku``, Alumio product tasks and ``product-hashes``.

The edge cases the test suites need (case variants, LIKE wildcards in values, NULL vs missing,
duplicate keys, extreme numbers) live in each emulator's *trap* sample instead
(``sample_data="traps"``), which ``tests/conftest.py`` selects for the whole suite.

Everything here is deterministic (``random.Random(seed)``) and built once per seed.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass

__all__ = ["Customer", "Order", "Product", "World", "email", "world"]


@dataclass(frozen=True)
class Customer:
    key: int
    company: str
    domain: str
    industry: str
    country: str
    city: str
    employees: int
    since: dt.date
    vip: bool
    credit_limit: float
    first_name: str
    last_name: str
    email: str
    phone: str
    birthday: dt.date | None


@dataclass(frozen=True)
class Product:
    key: int
    sku: str
    name: str
    category: str
    tags: tuple[str, ...]
    price: float
    launched: dt.date
    in_stock: bool


@dataclass(frozen=True)
class Order:
    key: int
    number: str
    customer: int  # Customer.key
    product: int  # Product.key
    quantity: int
    unit_price: float
    total: float
    status: str  # pending | paid | shipped | cancelled
    ordered: dt.datetime  # UTC


@dataclass(frozen=True)
class World:
    customers: tuple[Customer, ...]
    products: tuple[Product, ...]
    orders: tuple[Order, ...]


_PREFIXES = ["Nordic", "Blue Harbor", "Greenfield", "Summit", "Riverside", "Oakwood", "Brightline", "Northstar",
             "Silverleaf", "Redwood", "Harbourview", "Clearwater", "Stonebridge", "Westgate", "Maple & Co",
             "Lakeside", "Ironworks", "Sunrise"]  # fmt: skip
_SUFFIXES = [("Architects", "architecture"), ("Legal", "legal"), ("Consulting", "consulting"),
             ("Dental Clinic", "healthcare"), ("Logistics", "logistics"), ("Software", "technology"),
             ("Accountants", "finance"), ("Design Studio", "design"), ("Realty", "real estate"),
             ("Engineering", "engineering")]  # fmt: skip
_PLACES = [("NL", "Amsterdam"), ("NL", "Utrecht"), ("DE", "Berlin"), ("DE", "Hamburg"), ("ES", "Madrid"),
           ("ES", "Valencia"), ("FR", "Lyon"), ("EE", "Tallinn"), ("IS", "Reykjavík"), ("GB", "Leeds"),
           ("US", "Austin"), ("PT", "Porto")]  # fmt: skip
_FIRST = ["Anna", "Bram", "Chloé", "Daniel", "Elif", "Fatima", "Gustav", "Hanna", "Ivan", "Jana", "Karl", "Lucía",
          "Mark", "Nora", "Oskar", "Priya", "Rasmus", "Sofía", "Tomás", "Ulla", "Viktor", "Wen", "Yusuf", "Zoë"]
_LAST = ["de Vries", "Jansen", "Martin", "Müller", "Schmidt", "García", "López", "Tamm", "Saar", "Jónsdóttir",
         "Smith", "Brown", "Silva", "Rossi", "Novak", "Öztürk", "Kowalski", "Dubois", "Nguyen", "Berg"]
#: name, category, list price in EUR, tags
_CATALOGUE = [
    ("Ergonomic Office Chair", "furniture", 349.00, ("ergonomic", "seating")),
    ("Standing Desk 140 cm", "furniture", 589.00, ("ergonomic", "desks")),
    ("Standing Desk 160 cm", "furniture", 649.00, ("ergonomic", "desks")),
    ("Meeting Table 8 Seats", "furniture", 1249.00, ("desks",)),
    ("Filing Cabinet 3 Drawers", "furniture", 189.00, ("storage",)),
    ("Bookcase Oak", "furniture", 229.00, ("storage",)),
    ("Visitor Chair", "furniture", 119.00, ("seating",)),
    ("Acoustic Panel", "furniture", 95.00, ("acoustics",)),
    ('27" 4K Monitor', "electronics", 399.00, ("displays",)),
    ('34" Ultrawide Monitor', "electronics", 549.00, ("displays",)),
    ("USB-C Docking Station", "electronics", 219.00, ("connectivity",)),
    ("Wireless Keyboard", "electronics", 69.00, ("input",)),
    ("Wireless Mouse", "electronics", 39.00, ("input",)),
    ("Noise-Cancelling Headset", "electronics", 179.00, ("audio", "remote work")),
    ("Conference Speakerphone", "electronics", 249.00, ("audio", "remote work")),
    ("HD Webcam", "electronics", 89.00, ("video", "remote work")),
    ("Laser Printer", "electronics", 329.00, ("printing",)),
    ("Laptop Stand", "accessories", 49.00, ("ergonomic",)),
    ("Monitor Arm Dual", "accessories", 129.00, ("ergonomic", "displays")),
    ("LED Desk Lamp", "accessories", 59.00, ("lighting",)),
    ("Cable Management Kit", "accessories", 29.00, ("desks",)),
    ("Footrest", "accessories", 45.00, ("ergonomic",)),
    ("Whiteboard 120 x 90 cm", "accessories", 139.00, ("meeting",)),
    ("Copy Paper A4, 5 x 500 sheets", "supplies", 24.50, ("printing",)),
    ("Toner Cartridge Black", "supplies", 79.00, ("printing",)),
    ("Notebooks A5, pack of 10", "supplies", 18.90, ("stationery",)),
    ("Gel Pens, box of 50", "supplies", 21.00, ("stationery",)),
    ("Sticky Notes, 12 pads", "supplies", 9.80, ("stationery",)),
    ("Coffee Beans 1 kg", "kitchen", 22.00, ("coffee",)),
    ("Espresso Machine", "kitchen", 899.00, ("coffee",)),
    ("Water Cooler", "kitchen", 279.00, ("water",)),
    ("Dishwasher Tablets, 100", "kitchen", 19.00, ("cleaning",)),
]
_STATUS_WEIGHTS = {"shipped": 70, "paid": 15, "pending": 8, "cancelled": 7}
_START = dt.datetime(2024, 12, 1, tzinfo=dt.UTC)
_DAYS = 730  # two years of orders, to the end of November 2026


def _ascii(s: str) -> str:
    table = str.maketrans("éáíóúüöñçåøæðþë'", "eaiouuoncaoadte ")
    return "".join(c for c in s.lower().translate(table).replace("&", "and") if c.isalnum() or c in " -").strip()


def email(first: str, last: str, domain: str) -> str:
    """first.last@domain in plain ASCII, as mail systems spell it."""
    return f"{_ascii(first).replace(' ', '')}.{_ascii(last).replace(' ', '')}@{domain}"


def _customers(r: random.Random) -> list[Customer]:
    out: list[Customer] = []
    names = [(p, s) for s in _SUFFIXES for p in _PREFIXES]
    r.shuffle(names)
    for key, (prefix, (suffix, industry)) in enumerate(names[:48], start=1):
        company = f"{prefix} {suffix}"
        domain = f"{_ascii(prefix).replace(' ', '')}-{_ascii(suffix).split()[0]}.example"
        country, city = r.choice(_PLACES)
        first, last = r.choice(_FIRST), r.choice(_LAST)
        size = r.choice([8, 12, 25, 40, 60, 120, 250, 600])
        out.append(Customer(
            key=key, company=company, domain=domain, industry=industry, country=country, city=city,
            employees=size + r.randrange(size // 2 + 1),
            since=dt.date(2018, 1, 1) + dt.timedelta(days=r.randrange(2500)),
            vip=size >= 120 and r.random() < 0.6, credit_limit=float(r.choice([2500, 5000, 10000, 25000, 50000])),
            first_name=first, last_name=last, email=email(first, last, domain),
            phone=f"+{r.choice(['31', '49', '34', '33', '372', '354', '44', '1', '351'])} {r.randrange(10**8, 10**9)}",
            birthday=None if r.random() < 0.15 else dt.date(1960, 1, 1) + dt.timedelta(days=r.randrange(15000)),
        ))  # fmt: skip
    return out


def _products(r: random.Random) -> list[Product]:
    return [
        Product(key=i, sku=f"SKU-{1000 + i}", name=name, category=category, tags=tags, price=price,
                launched=dt.date(2019, 1, 1) + dt.timedelta(days=r.randrange(2400)), in_stock=r.random() < 0.85)
        for i, (name, category, price, tags) in enumerate(_CATALOGUE, start=1)
    ]


def _orders(r: random.Random, customers: list[Customer], products: list[Product]) -> list[Order]:
    # a few big customers order most: weights fall with the customer key
    weights = [1.0 / (1 + c.key % 12) for c in customers]
    out: list[Order] = []
    for key in range(1, 361):
        customer = r.choices(customers, weights)[0]
        product = r.choice(products)
        quantity = r.randint(1, 4) if product.category == "furniture" else r.randint(1, 12)
        discount = r.choice([0, 0, 0, 5, 10]) if quantity >= 5 or customer.vip else 0
        unit = round(product.price * (100 - discount) / 100, 2)
        ordered = _START + dt.timedelta(days=_DAYS * (key - 1) / 360, minutes=r.randrange(8 * 60, 18 * 60))
        age = (_START + dt.timedelta(days=_DAYS) - ordered).days
        if age < 3:
            status = "pending"
        elif age < 10:
            status = r.choice(["pending", "paid", "paid", "shipped"])
        else:
            status = r.choices(list(_STATUS_WEIGHTS), list(_STATUS_WEIGHTS.values()))[0]
        out.append(Order(key=key, number=f"NL{100000 + key}", customer=customer.key, product=product.key,
                         quantity=quantity, unit_price=unit, total=round(unit * quantity, 2), status=status,
                         ordered=ordered.replace(second=0, microsecond=0)))
    return out


@functools.lru_cache(maxsize=4)
def world(seed: int = 0) -> World:
    """The business for ``seed`` (the emulators pass their own ``seed``)."""
    r = random.Random(f"acme-office-supply/{seed}")
    customers = _customers(r)
    products = _products(r)
    return World(tuple(customers), tuple(products), tuple(_orders(r, customers, products)))
