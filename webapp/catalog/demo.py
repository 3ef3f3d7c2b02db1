"""The demo catalog: fourteen products with photographs made procedurally, so a fresh install
has something a merchant recognises as product photography to make videos of.

Each product has 2-4 photos: packshots on a seamless studio sweep (key light, softbox
reflections, contact shadow, a faint floor reflection) and lifestyle scenes (a desk, a shelf,
a kitchen counter, a trail), in square, landscape and portrait sizes. The drawing is
deterministic (seeded by the product key and the photo's position) and takes a fraction of a
second per photo; ``demo_shot`` also returns the product's true silhouette, which tests use to
score cut-outs and crops.
"""

from __future__ import annotations

import io
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

import cv2
import numpy as np
from PIL import Image
from sqlalchemy import select

from .. import media
from ..extensions import db
from ..models import ImageStatus, Product, ProductImage, Workspace
from ..render.layout import Box
from .photostudio import (
    SCENES,
    TILT,
    Material,
    ProductLayer,
    contact_shadows,
    ellipse_pts,
    finish,
    floor_reflection,
    rrect_pts,
    smooth_pts,
    stroke_pts,
    sweep,
)

SQUARE, LANDSCAPE, PORTRAIT = (1200, 1200), (1600, 1067), (1067, 1600)

# Seamless paper sweeps: (wall, floor) colours.
SWEEPS = {
    "paper": ((236, 232, 224), (250, 248, 244)),
    "fog": ((214, 222, 230), (240, 244, 248)),
    "blush": ((236, 214, 206), (250, 238, 232)),
    "sage": ((206, 216, 200), (236, 240, 230)),
    "sand": ((226, 210, 184), (246, 236, 218)),
    "slate": ((74, 84, 100), (128, 138, 152)),
    "ink": ((38, 42, 52), (84, 90, 104)),
}


@dataclass(frozen=True)
class Shot:
    """One photo of a product: its pixel size and where it is taken: ``studio`` on a sweep
    from SWEEPS, or in a scene from photostudio.SCENES."""

    size: tuple[int, int]
    setting: str
    place: str

    @property
    def kind(self) -> str:
        return "packshot" if self.setting == "studio" else "scene"


@dataclass(frozen=True)
class DemoProduct:
    key: str
    title: str
    sku: str
    price: str
    compare_at_price: str | None
    colour: tuple[int, int, int]
    shape: str
    description: str
    shots: tuple[Shot, ...]


def _studio(size: tuple[int, int], sweep_name: str) -> Shot:
    return Shot(size, "studio", sweep_name)


def _scene(size: tuple[int, int], scene: str) -> Shot:
    return Shot(size, "scene", scene)


DEMO_PRODUCTS = [
    DemoProduct("aurora-lamp", "Aurora Desk Lamp", "AUR-100", "89.00", "119.00", (232, 164, 48), "lamp",
                "Warm dimmable LED. Touch control with three levels. Aluminium arm folds flat. USB-C powered.",
                (_studio(SQUARE, "fog"), _scene(LANDSCAPE, "desk"), _studio(PORTRAIT, "paper"))),
    DemoProduct("nimbus-mug", "Nimbus Ceramic Mug", "NIM-220", "24.00", None, (70, 132, 200), "mug",
                "Hand-glazed stoneware, 350 ml. Dishwasher and microwave safe. Comfortable wide handle.",
                (_studio(SQUARE, "sand"), _scene(LANDSCAPE, "kitchen"), _studio(LANDSCAPE, "paper"))),
    DemoProduct("trail-pack", "Trailhead Backpack 28L", "TRL-028", "129.00", "159.00", (58, 104, 74), "bag",
                "Water-resistant recycled nylon. Padded 16-inch laptop sleeve. Ventilated back panel.",
                (_studio(PORTRAIT, "sand"), _scene(LANDSCAPE, "outdoor"), _studio(SQUARE, "fog"),
                 _scene(PORTRAIT, "outdoor"))),
    DemoProduct("echo-speaker", "Echo Mini Speaker", "ECH-010", "59.00", None, (46, 48, 56), "round",
                "360-degree sound. 12-hour battery. IP67 waterproof. Pairs two speakers for stereo.",
                (_studio(SQUARE, "blush"), _scene(LANDSCAPE, "shelf"), _studio(PORTRAIT, "fog"))),
    DemoProduct("bloom-vase", "Bloom Glass Vase", "BLM-300", "39.00", None, (206, 96, 140), "vase",
                "Mouth-blown recycled glass. 25 cm tall. Each piece is unique. Gift boxed.",
                (_studio(PORTRAIT, "paper"), _scene(LANDSCAPE, "shelf"))),
    DemoProduct("stride-sneaker", "Stride Running Sneaker", "STR-042", "110.00", None, (222, 70, 52), "shoe",
                "Breathable knit upper. Responsive foam midsole. 240 g per shoe. Reflective details.",
                (_studio(LANDSCAPE, "fog"), _scene(LANDSCAPE, "outdoor"), _studio(SQUARE, "slate"))),
    DemoProduct("pulse-watch", "Pulse Fitness Watch", "PLS-007", "149.00", None, (34, 36, 40), "watch",
                "Heart-rate and sleep tracking. 7-day battery. Swim-proof to 50 m. Built-in GPS.",
                (_studio(SQUARE, "sand"), _scene(LANDSCAPE, "desk"), _studio(PORTRAIT, "blush"))),
    DemoProduct("haven-throw", "Haven Knit Throw", "HVN-150", "75.00", "95.00", (190, 168, 134), "throw",
                "Chunky cotton knit, 130 x 170 cm. Machine washable. Softens with every wash.",
                (_studio(LANDSCAPE, "slate"), _scene(LANDSCAPE, "shelf"), _studio(SQUARE, "sage"))),
    DemoProduct("brew-kettle", "Brew Pour-Over Kettle", "BRW-900", "65.00", None, (196, 198, 204), "kettle",
                "Gooseneck spout for a precise pour. 0.9 litre. Built-in thermometer. Works on induction.",
                (_studio(SQUARE, "ink"), _scene(LANDSCAPE, "kitchen"), _studio(PORTRAIT, "sand"))),
    DemoProduct("luma-candle", "Luma Soy Candle", "LUM-060", "28.00", None, (240, 222, 192), "candle",
                "Natural soy wax with cedar and amber. 45-hour burn. Cotton wick. Reusable jar.",
                (_studio(SQUARE, "slate"), _scene(LANDSCAPE, "shelf"), _studio(PORTRAIT, "blush"))),
    DemoProduct("orbit-headphones", "Orbit Wireless Headphones", "ORB-500", "199.00", "249.00", (64, 74, 150),
                "headphones", "Active noise cancelling. 30-hour battery. Multipoint Bluetooth. Fold-flat design.",
                (_studio(SQUARE, "paper"), _scene(LANDSCAPE, "desk"), _studio(LANDSCAPE, "blush"),
                 _studio(PORTRAIT, "fog"))),
    DemoProduct("grove-planter", "Grove Ceramic Planter", "GRV-120", "45.00", None, (214, 206, 190), "planter",
                "Matte ceramic with a drainage saucer. 18 cm wide. Fits plants up to 15 cm pots.",
                (_studio(PORTRAIT, "sage"), _scene(LANDSCAPE, "shelf"))),
    DemoProduct("summit-bottle", "Summit Insulated Bottle", "SMT-750", "35.00", None, (36, 140, 160), "bottle",
                "Keeps drinks cold 24 hours, hot 12. 750 ml. Leak-proof lid. BPA free.",
                (_studio(PORTRAIT, "blush"), _scene(PORTRAIT, "outdoor"), _studio(SQUARE, "paper"),
                 _scene(LANDSCAPE, "kitchen"))),
    DemoProduct("canvas-tote", "Canvas Market Tote", "CNV-033", "32.00", None, (214, 194, 154), "tote",
                "Heavy organic canvas. Inside pocket. Carries up to 15 kg. Leather handles.",
                (_studio(SQUARE, "slate"), _studio(PORTRAIT, "sage"))),
]
DEMO_BY_KEY = {product.key: product for product in DEMO_PRODUCTS}
PHOTO_THREADS = 2


def seed_demo_catalog(workspace: Workspace) -> int:
    """Adds the demo products that the workspace does not have yet; returns how many it added."""
    existing = set(db.session.scalars(select(Product.external_key).where(Product.workspace_id == workspace.id)))
    missing = [demo for demo in DEMO_PRODUCTS if demo.key not in existing]
    # the photos are drawn two at a time: numpy lets go of the GIL for most of a photo
    shots = [(demo.key, position) for demo in missing for position in range(len(demo.shots))]
    with ThreadPoolExecutor(max_workers=PHOTO_THREADS, thread_name_prefix="demo-photo") as pool:
        photos = dict(zip(shots, pool.map(lambda shot: demo_photo(*shot), shots), strict=True))
    added = 0
    for demo in missing:
        product = Product(
            workspace_id=workspace.id, external_key=demo.key, title=demo.title, sku=demo.sku,
            price=Decimal(demo.price),
            compare_at_price=Decimal(demo.compare_at_price) if demo.compare_at_price else None,
            description=demo.description, vendor="Reelboard Demo", marketplace="demo",
        )
        for position, shot in enumerate(demo.shots):
            relative = media.new_path(f"products/{workspace.id}", ".jpg")
            media.write_atomically(relative, photos[demo.key, position])
            product.images.append(ProductImage(position=position, file_path=relative, status=ImageStatus.OK.value,
                                               width=shot.size[0], height=shot.size[1]))
        db.session.add(product)
        added += 1
    db.session.commit()
    return added


@dataclass(frozen=True)
class DemoShot:
    """A demo photo with its ground truth: ``mask`` is True on the product's silhouette."""

    image: Image.Image
    mask: np.ndarray
    kind: str  # "packshot" | "scene"

    @property
    def product_box(self) -> Box:
        ys, xs = np.nonzero(self.mask)
        return Box(int(xs.min()), int(ys.min()), int(xs.max()) + 1 - int(xs.min()), int(ys.max()) + 1 - int(ys.min()))


def demo_photo(key: str, position: int) -> bytes:
    """The JPEG of the demo product ``key``'s photo at ``position``."""
    buffer = io.BytesIO()
    demo_shot(key, position).image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def demo_shot(key: str, position: int) -> DemoShot:
    """The photo and the product's true silhouette; ``position`` wraps around the product's shots."""
    demo = DEMO_BY_KEY[key]
    shot = demo.shots[position % len(demo.shots)]
    rng = np.random.default_rng(zlib.crc32(f"{key}/{position}".encode()))
    width, height = shot.size
    layer = ProductLayer(width, height, rng)
    aspect = ASPECTS[demo.shape]
    if shot.kind == "packshot":
        wall, floor = SWEEPS[shot.place]
        product_h = min(height * (0.66 if height >= width else 0.7), width * 0.74 / aspect)
        cx = width * (0.5 + (0.04 if position % 2 else -0.03))
        floor_y = height * 0.5 + product_h * 0.5 + height * 0.02
        background = sweep(width, height, wall, floor, (cx / width, (floor_y - product_h * 0.55) / height), rng)
        DRAW[demo.shape](layer, cx, floor_y, product_h, demo.colour)
        background = floor_reflection(background, layer, floor_y, 0.16)
        background = contact_shadows(background, layer, floor_y)
    else:
        # the set is drawn at half size: it is mostly out of focus, and it is 4x faster
        scene = SCENES[shot.place](width // 2, height // 2, rng, position % 2 == 0)
        backdrop = cv2.resize(scene.image, (width, height), interpolation=cv2.INTER_LINEAR)
        floor_y = scene.floor_y * 2
        product_h = min(scene.product_h * 2, width * 0.42 / aspect)
        DRAW[demo.shape](layer, scene.cx * 2, floor_y, product_h, demo.colour)
        background = contact_shadows(backdrop, layer, floor_y, 0.9, scene.shadow_direction)
    pixels = layer.rgb + background * (1 - layer.alpha[..., None])
    image = Image.fromarray(finish(pixels, rng))
    return DemoShot(image, layer.cover > 0.5, shot.kind)


# -- the products, drawn part by part ----------------------------------------------------------
# Each function draws a product standing on the floor at ``base`` (pixels), centred on ``cx``,
# ``h`` pixels tall; units below are hundredths of that height, measured up from the floor.

def _units(cx: float, base: float, h: float):
    u = h / 100

    def at(x: float, y: float) -> tuple[float, float]:
        return cx + x * u, base - y * u

    def pts(points: list[tuple[float, float]]) -> np.ndarray:
        return np.array([at(x, y) for x, y in points], np.float32)

    return u, at, pts


def _shade_of(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(max(0, min(255, round(c * factor))) for c in colour)  # type: ignore[return-value]


def _revolve(layer: ProductLayer, at, u: float, rows: list[tuple[float, float]], material: Material, x: float = 0,
             **options) -> None:
    layer.revolve(at(x, 0)[0], [(at(0, y)[1], r * u) for y, r in rows], material, **options)


def _opening(layer: ProductLayer, at, u: float, y: float, r: float, wall: float, rim: tuple[int, int, int],
             inside: tuple[int, int, int]) -> None:
    cx, cy = at(0, y)
    layer.part(ellipse_pts(cx, cy, r * u, r * u * TILT), Material(rim, 0.5), normals="flat", facing=(0, -1, 0.5), bevel=0)
    inner = ellipse_pts(cx, cy + wall * u * TILT * 0.3, (r - wall) * u, (r - wall) * u * TILT)
    # the far inner wall catches the light, the near one is in its own shadow
    layer.part(inner, Material(inside, 0.3), normals="flat", facing=(0, -0.3, 1), bevel=0, ramp=(1.25, 0.45))


def draw_lamp(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    steel = Material((186, 190, 196), 0.8, metal=1.0)
    _revolve(layer, at, u, [(5, 21), (1.5, 23), (0, 22)], Material((44, 46, 52), 0.55, metal=0.6), x=-4)
    layer.part(stroke_pts([at(-4, 4), at(-12, 40), at(-16, 58)], 4.2 * u), steel, normals="inflate", bevel=2.1 * u)
    layer.part(stroke_pts([at(-16, 58), at(4, 76), at(22, 84)], 3.8 * u), steel, normals="inflate", bevel=1.9 * u)
    joint = at(-16, 58)
    layer.part(ellipse_pts(*joint, 4.4 * u, 4.4 * u), Material((44, 46, 52), 0.6, metal=0.6), normals="inflate", bevel=2.2 * u)
    _revolve(layer, at, u, [(98, 6), (93, 9), (82, 17), (74, 21)],
             Material(colour, 0.45, texture="noise", texture_px=3, bump=0.2), x=30)
    bulb_x, bulb_y = at(30, 74)
    layer.part(ellipse_pts(bulb_x, bulb_y + 0.5 * u, 18.5 * u, 18.5 * u * TILT * 0.8),
               Material((255, 244, 214), emissive=True), normals="flat", bevel=0)
    layer.glow(bulb_x, bulb_y + 6 * u, 14 * u, (255, 214, 150), 0.35)


def draw_mug(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    glaze = Material(colour, 0.75, texture="speckle", texture_px=4, bump=0.3)
    layer.part(stroke_pts([at(30, 70), at(50, 66), at(55, 42), at(46, 20), at(28, 16)], 9 * u), glaze,
               normals="inflate", bevel=4.5 * u)
    _revolve(layer, at, u, [(82, 32), (8, 31), (2, 29), (0, 27)], glaze, occlude=0.35)
    _opening(layer, at, u, 82, 32, 3, _shade_of(colour, 1.15), _shade_of(colour, 0.8))


def draw_bag(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    strap = Material(_shade_of(colour, 0.55), 0.15, texture="ripstop", texture_px=1.6 * u, bump=0.3)
    for side in (-1, 1):
        layer.part(stroke_pts([at(side * 22, 80), at(side * 36, 50), at(side * 31, 10)], 7 * u), strap,
                   normals="inflate", bevel=3 * u)
    layer.part(stroke_pts([at(-9, 86), at(0, 97), at(9, 86)], 3 * u), strap, normals="inflate", bevel=1.5 * u)
    nylon = Material(colour, 0.25, texture="ripstop", texture_px=2.4 * u, bump=0.35)
    layer.part(rrect_pts(*at(-31, 90), *at(31, 0), 20 * u), nylon, normals="inflate", bevel=16 * u)
    layer.part(rrect_pts(*at(-23, 44), *at(23, 6), 9 * u), Material(_shade_of(colour, 0.85), 0.25, texture="ripstop",
                                                                     texture_px=2.4 * u, bump=0.35),
               normals="inflate", bevel=7 * u, occlude=0.3)
    zip_dark = Material((28, 30, 32), 0.5)
    layer.part(stroke_pts([at(-20, 40), at(20, 40)], 1.1 * u), zip_dark, normals="inflate", bevel=0.6 * u)
    layer.part(stroke_pts([at(-26, 78), at(0, 84), at(26, 78)], 1.1 * u), zip_dark, normals="inflate", bevel=0.6 * u)
    layer.part(rrect_pts(*at(-6, 30), *at(6, 22), 1.5 * u), Material((196, 150, 100), 0.35), normals="inflate", bevel=1.2 * u)
    layer.part(rrect_pts(*at(18, 41.5), *at(21, 35), 1 * u), Material((200, 200, 205), 0.8, metal=1.0),
               normals="inflate", bevel=0.8 * u)


def draw_speaker(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    layer.part(stroke_pts([at(20, 74), at(30, 70), at(27, 58)], 2.2 * u), Material((60, 62, 70), 0.3),
               normals="inflate", bevel=1.1 * u)
    _revolve(layer, at, u, [(80, 24), (6, 24)], Material(colour, 0.15, texture="mesh", texture_px=1.4 * u, bump=0.9))
    _revolve(layer, at, u, [(6, 24.2), (1, 24), (0, 23)], Material(_shade_of(colour, 0.6), 0.5))
    cx0, cy0 = at(0, 80)
    layer.part(ellipse_pts(cx0, cy0, 24 * u, 24 * u * TILT), Material(_shade_of(colour, 0.8), 0.35), normals="flat",
               facing=(0, -1, 0.45), bevel=1.5 * u)
    for dx, sym in ((-8, 0), (0, 1), (8, 0)):
        bx, by = at(dx, 80)
        layer.part(ellipse_pts(bx, by, 2.6 * u, 2.6 * u * TILT * 1.4),
                   Material((210, 212, 218) if sym else (120, 122, 130), 0.4), normals="flat", facing=(0, -1, 0.5), bevel=0)
    _revolve(layer, at, u, [(74, 24.3), (72.5, 24.3)], Material((250, 250, 255), emissive=True))


def draw_vase(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    glass = Material(colour, 1.0)
    rows = [(100, 11), (96, 9), (84, 9.5), (68, 16), (45, 26), (18, 25), (4, 18), (0, 16)]
    _revolve(layer, at, u, [(y, r * 0.72) for y, r in rows[2:]], Material(_shade_of(colour, 0.55), 0.6), opacity=0.9)
    _revolve(layer, at, u, rows, glass, opacity=0.78)
    _opening(layer, at, u, 100, 11, 1.6, _shade_of(colour, 1.3), _shade_of(colour, 0.5))


def draw_shoe(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, pts = _units(cx, base, h)
    knit = Material(colour, 0.2, texture="knit", texture_px=2.2 * u, bump=0.9)
    upper = smooth_pts(pts([(-110, 14), (-117, 52), (-110, 86), (-94, 100), (-74, 97), (-56, 88), (-36, 90),
                            (-16, 95), (2, 86), (30, 70), (62, 57), (92, 47), (114, 36), (122, 20), (100, 12)]))
    layer.part(upper, knit, bevel=24 * u)
    layer.part(ellipse_pts(*at(-70, 93), 16 * u, 4.5 * u), Material((34, 28, 28), 0.2), bevel=2 * u, occlude=0.3)
    layer.part(stroke_pts([at(-113, 30), at(-114, 60), at(-104, 92)], 6 * u), Material(_shade_of(colour, 0.6), 0.5),
               bevel=3 * u, occlude=0.3)
    for i in range(5):
        x0, y0 = -22 + i * 14, 88 - i * 5.4
        layer.part(stroke_pts([at(x0 - 6, y0 - 6), at(x0 + 5, y0 + 2)], 2.6 * u), Material((244, 244, 240), 0.3),
                   bevel=1.3 * u)
    layer.part(stroke_pts([at(-84, 30), at(-30, 24), at(30, 32), at(86, 46)], 6 * u),
               Material((222, 226, 232), 0.9, metal=0.7), bevel=2.5 * u)
    sole = rrect_pts(*at(-124, 19), *at(124, 0), 8 * u)
    layer.part(sole, Material((246, 244, 238), 0.2, texture="noise", texture_px=3, bump=0.3), bevel=6 * u, occlude=0.4)
    layer.part(stroke_pts([at(-118, 2.5), at(118, 2.5)], 3 * u), Material((60, 60, 64), 0.3), bevel=1.5 * u)


def draw_watch(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    silicone = Material(colour, 0.3, texture="noise", texture_px=2, bump=0.2)
    layer.part(rrect_pts(*at(-14, 100), *at(14, 58), 6 * u), silicone, normals="inflate", bevel=5 * u)
    layer.part(rrect_pts(*at(-14, 42), *at(14, 0), 6 * u), silicone, normals="inflate", bevel=5 * u,
               cut=[ellipse_pts(*at(0, y), 1.6 * u, 1.6 * u) for y in (8, 15, 22)])
    layer.part(rrect_pts(*at(23, 54), *at(27, 45), 1.5 * u), Material((196, 198, 204), 0.8, metal=1.0),
               normals="inflate", bevel=1.5 * u)
    layer.part(rrect_pts(*at(-24, 74), *at(24, 26), 12 * u), Material((200, 202, 208), 0.9, metal=1.0),
               normals="inflate", bevel=6 * u, occlude=0.3)
    layer.part(rrect_pts(*at(-19, 69), *at(19, 31), 8 * u), Material((12, 14, 18), 1.0), normals="flat", bevel=1.5 * u)
    ring_cx, ring_cy = at(0, 50)
    for radius, tint, sweep_deg in ((13, (250, 60, 90), 280), (10, (150, 240, 60), 210), (7, (60, 220, 240), 150)):
        arc = ellipse_pts(ring_cx, ring_cy, radius * u, radius * u, -90, -90 + sweep_deg, 64)
        layer.part(stroke_pts([tuple(p) for p in arc[::6]], 2.2 * u), Material(tint, emissive=True), normals="flat", bevel=0)


def draw_throw(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, pts = _units(cx, base, h)
    knit = Material(colour, 0.1, texture="knit", texture_px=4 * u, bump=1.4)
    for i, factor in enumerate((0.88, 0.94, 1.0)):
        y0 = i * 25
        layer.part(rrect_pts(*at(-78 + i * 2, y0 + 28), *at(78 - i * 2, y0), 12 * u),
                   Material(_shade_of(colour, factor), 0.1, texture="knit", texture_px=4 * u, bump=1.4),
                   normals="inflate", bevel=12 * u, occlude=0.45)
    top = pts([(-74, 74), (74, 74), (64, 100), (-64, 100)])
    layer.part(top, knit, normals="flat", facing=(0, -1, 0.6), bevel=6 * u, occlude=0.2)
    for i in range(7):
        x = 78 + (i % 2)
        layer.part(stroke_pts([at(x - 3, 8 + i * 9), at(x + 6, 4 + i * 9)], 2.2 * u), Material(_shade_of(colour, 0.9), 0.1),
                   normals="inflate", bevel=1 * u)


def draw_kettle(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    steel = Material(colour, 0.95, metal=1.0)
    layer.part(stroke_pts([at(-24, 66), at(-50, 66), at(-54, 36), at(-34, 18)], 7 * u), Material((30, 30, 32), 0.35),
               normals="inflate", bevel=3.5 * u)
    layer.part(stroke_pts([at(24, 14), at(46, 26), at(52, 60), at(62, 82), at(74, 86)], 4.2 * u), steel,
               normals="inflate", bevel=2.1 * u)
    _revolve(layer, at, u, [(74, 17), (68, 26), (50, 34), (12, 35), (3, 33), (0, 30)], steel, occlude=0.3)
    cx0, cy0 = at(0, 74)
    layer.part(ellipse_pts(cx0, cy0, 17 * u, 17 * u * TILT), steel, normals="flat", facing=(0, -1, 0.6), bevel=1.5 * u)
    _revolve(layer, at, u, [(84, 5.5), (78, 4.2), (75, 5)], Material((150, 104, 66), 0.35, texture="grain",
                                                                         texture_px=1.2 * u))
    layer.part(ellipse_pts(*at(0, 86), 5.5 * u, 5.5 * u * TILT), Material((170, 120, 80), 0.35), normals="flat",
               facing=(0, -1, 0.6), bevel=0)
    layer.part(ellipse_pts(*at(-14, 40), 6.5 * u, 6.5 * u), Material((236, 236, 230), 0.9), normals="flat", bevel=1.5 * u)
    layer.part(stroke_pts([at(-14, 40), at(-10.5, 43.5)], 0.9 * u), Material((200, 40, 40), emissive=True),
               normals="flat", bevel=0)


def draw_candle(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    _revolve(layer, at, u, [(60, 25), (4, 25)], Material(colour, 0.2))
    _revolve(layer, at, u, [(80, 29), (2, 29), (0, 28)], Material((120, 82, 44), 1.0), opacity=0.62)
    _opening(layer, at, u, 80, 29, 1.2, (150, 112, 70), _shade_of(colour, 0.75))
    _revolve(layer, at, u, [(50, 29.3), (22, 29.3)], Material((34, 36, 40), 0.15, texture="noise", texture_px=2))
    _revolve(layer, at, u, [(38, 29.4), (35.5, 29.4)], Material((210, 180, 120), 0.8, metal=1.0))
    wick_x, wick_y = at(0.5, 60)
    layer.part(stroke_pts([at(0, 60), at(0.6, 66)], 1.1 * u), Material((40, 34, 30), 0.2), normals="inflate", bevel=0.5 * u)
    flame = stroke_pts([at(0.6, 66), at(0.9, 71), at(0.4, 77)], 3.6 * u)
    layer.part(flame, Material((255, 214, 140), emissive=True), normals="flat", bevel=0)
    layer.glow(*at(0.6, 71), 7 * u, (255, 170, 80), 0.5)
    layer.glow(wick_x, wick_y, 20 * u, (255, 190, 120), 0.12)


def draw_headphones(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    arc = [at(42 * np.cos(np.radians(a)), 52 + 46 * np.sin(np.radians(a))) for a in np.linspace(180, 0, 9)]
    layer.part(stroke_pts(arc, 8 * u), Material(colour, 0.35, texture="noise", texture_px=2), normals="inflate", bevel=4 * u)
    inner = [at(39 * np.cos(np.radians(a)), 52 + 41 * np.sin(np.radians(a))) for a in np.linspace(165, 15, 7)]
    layer.part(stroke_pts(inner, 4 * u), Material((36, 38, 44), 0.2, texture="noise", texture_px=2), normals="inflate",
               bevel=2 * u)
    steel = Material((200, 204, 210), 0.9, metal=1.0)
    for side in (-1, 1):
        layer.part(stroke_pts([at(side * 42, 56), at(side * 42, 42)], 3 * u), steel, normals="inflate", bevel=1.5 * u)
        layer.part(ellipse_pts(*at(side * 41, 24), 15 * u, 23 * u), Material(colour, 0.45), normals="inflate",
                   bevel=9 * u, occlude=0.3)
        layer.part(ellipse_pts(*at(side * 33, 24), 8 * u, 19 * u), Material((40, 42, 48), 0.1, texture="noise",
                                                                             texture_px=2), normals="inflate", bevel=6 * u)
        layer.part(ellipse_pts(*at(side * 43, 24), 6 * u, 6 * u), steel, normals="flat", bevel=2 * u)


def draw_planter(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    leaves = [(-150, 44, (54, 110, 60)), (-120, 54, (64, 128, 66)), (-95, 60, (50, 104, 56)), (-70, 56, (70, 136, 72)),
              (-40, 50, (58, 118, 62)), (-20, 40, (66, 130, 70)), (-160, 34, (60, 120, 64))]
    stem = at(0, 44)
    for angle, length, green in leaves:
        tip = (stem[0] + np.cos(np.radians(angle)) * length * u, stem[1] + np.sin(np.radians(angle)) * length * u)
        mid = ((stem[0] + tip[0]) / 2 + 3 * u, (stem[1] + tip[1]) / 2 - 4 * u)
        layer.part(stroke_pts([stem, mid, tip], 14 * u), Material(green, 0.55), normals="inflate", bevel=5 * u)
        layer.part(stroke_pts([stem, mid, tip], 0.8 * u), Material(_shade_of(green, 1.4), 0.4), normals="inflate",
                   bevel=0.4 * u)
    _revolve(layer, at, u, [(7, 31), (0, 30)], Material(_shade_of(colour, 0.92), 0.2, texture="noise", texture_px=3))
    _revolve(layer, at, u, [(48, 30), (12, 24), (7, 23)], Material(colour, 0.2, texture="noise", texture_px=3, bump=0.4),
               occlude=0.3)
    _opening(layer, at, u, 48, 30, 2.5, _shade_of(colour, 1.08), (70, 52, 38))


def draw_bottle(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, _ = _units(cx, base, h)
    layer.part(stroke_pts([at(-6, 88), at(0, 99), at(6, 88)], 2.8 * u), Material((30, 30, 34), 0.3), normals="inflate",
               bevel=1.4 * u)
    _revolve(layer, at, u, [(92, 10), (80, 11)], Material((30, 30, 34), 0.35, texture="noise", texture_px=1.5))
    _revolve(layer, at, u, [(80, 11.5), (74, 12.5)], Material((200, 204, 210), 0.95, metal=1.0))
    _revolve(layer, at, u, [(74, 12.5), (64, 17), (6, 17), (1, 16.2), (0, 15.5)],
             Material(colour, 0.4, texture="noise", texture_px=1.2, bump=0.25))
    _revolve(layer, at, u, [(30, 17.2), (28.5, 17.2)], Material((240, 242, 246), 0.4))


def draw_tote(layer: ProductLayer, cx: float, base: float, h: float, colour: tuple[int, int, int]) -> None:
    u, at, pts = _units(cx, base, h)
    leather = Material((128, 76, 44), 0.5, texture="noise", texture_px=2, bump=0.2)
    layer.part(stroke_pts([at(-16, 66), at(-14, 96), at(14, 96), at(16, 66)], 3.6 * u),
               Material((98, 58, 34), 0.4), normals="inflate", bevel=1.8 * u)
    canvas = Material(colour, 0.05, texture="canvas", texture_px=0.9 * u, bump=0.5)
    body = pts([(-36, 70), (36, 70), (41, 4), (38, 0), (-38, 0), (-41, 4)])
    layer.part(body, canvas, normals="inflate", bevel=9 * u)
    layer.part(stroke_pts([at(-35, 64), at(35, 64)], 0.6 * u), Material(_shade_of(colour, 0.7), 0.1), normals="inflate",
               bevel=0.3 * u)
    layer.part(stroke_pts([at(-20, 66), at(-18, 94), at(18, 94), at(20, 66)], 3.8 * u), leather, normals="inflate",
               bevel=1.9 * u)
    for x in (-20, 20):
        layer.part(rrect_pts(*at(x - 3, 70), *at(x + 3, 58), 1 * u), leather, normals="inflate", bevel=1.2 * u)
    layer.part(rrect_pts(*at(-12, 40), *at(12, 24), 1.5 * u), Material((40, 50, 46), 0.05, texture="canvas",
                                                                       texture_px=0.9 * u, bump=0.3),
               normals="flat", bevel=0.8 * u)


DRAW = {
    "lamp": draw_lamp, "mug": draw_mug, "bag": draw_bag, "round": draw_speaker, "vase": draw_vase,
    "shoe": draw_shoe, "watch": draw_watch, "throw": draw_throw, "kettle": draw_kettle, "candle": draw_candle,
    "headphones": draw_headphones, "planter": draw_planter, "bottle": draw_bottle, "tote": draw_tote,
}
# Width over height of each drawing, so a photo can fit it.
ASPECTS = {
    "lamp": 0.82, "mug": 0.9, "bag": 0.8, "round": 0.56, "vase": 0.55, "shoe": 2.5, "watch": 0.54, "throw": 1.6,
    "kettle": 1.35, "candle": 0.6, "headphones": 1.2, "planter": 1.15, "bottle": 0.36, "tote": 0.84,
}
