"""The demo catalog: products with real JPEG photos drawn by Pillow, so a fresh install has
something to make videos of."""

from __future__ import annotations

import io
import random
from decimal import Decimal

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select

from .. import media
from ..extensions import db
from ..models import ImageStatus, Product, ProductImage, Workspace

# (external key, title, sku, price, colour, shape, description)
DEMO_PRODUCTS = [
    ("aurora-lamp", "Aurora Desk Lamp", "AUR-100", "89.00", (244, 180, 60), "lamp",
     "Warm dimmable LED. Touch control with three levels. Aluminium arm folds flat. USB-C powered."),
    ("nimbus-mug", "Nimbus Ceramic Mug", "NIM-220", "24.00", (92, 160, 220), "mug",
     "Hand-glazed stoneware, 350 ml. Dishwasher and microwave safe. Comfortable wide handle."),
    ("trail-pack", "Trailhead Backpack 28L", "TRL-028", "129.00", (60, 120, 80), "bag",
     "Water-resistant recycled nylon. Padded 16-inch laptop sleeve. Ventilated back panel."),
    ("echo-speaker", "Echo Mini Speaker", "ECH-010", "59.00", (40, 40, 48), "round",
     "360-degree sound. 12-hour battery. IP67 waterproof. Pairs two speakers for stereo."),
    ("bloom-vase", "Bloom Glass Vase", "BLM-300", "39.00", (210, 120, 160), "vase",
     "Mouth-blown recycled glass. 25 cm tall. Each piece is unique. Gift boxed."),
    ("stride-sneaker", "Stride Running Sneaker", "STR-042", "110.00", (230, 80, 60), "shoe",
     "Breathable knit upper. Responsive foam midsole. 240 g per shoe. Reflective details."),
    ("pulse-watch", "Pulse Fitness Watch", "PLS-007", "149.00", (30, 30, 30), "watch",
     "Heart-rate and sleep tracking. 7-day battery. Swim-proof to 50 m. Built-in GPS."),
    ("haven-throw", "Haven Knit Throw", "HVN-150", "75.00", (180, 160, 130), "square",
     "Chunky cotton knit, 130 x 170 cm. Machine washable. Softens with every wash."),
    ("brew-kettle", "Brew Pour-Over Kettle", "BRW-900", "65.00", (200, 200, 205), "kettle",
     "Gooseneck spout for a precise pour. 0.9 litre. Built-in thermometer. Works on induction."),
    ("luma-candle", "Luma Soy Candle", "LUM-060", "28.00", (240, 220, 190), "candle",
     "Natural soy wax with cedar and amber. 45-hour burn. Cotton wick. Reusable jar."),
    ("orbit-headphones", "Orbit Wireless Headphones", "ORB-500", "199.00", (70, 80, 160), "headphones",
     "Active noise cancelling. 30-hour battery. Multipoint Bluetooth. Fold-flat design."),
    ("grove-planter", "Grove Ceramic Planter", "GRV-120", "45.00", (120, 170, 110), "vase",
     "Matte ceramic with a drainage saucer. 18 cm wide. Fits plants up to 15 cm pots."),
    ("summit-bottle", "Summit Insulated Bottle", "SMT-750", "35.00", (40, 150, 170), "bottle",
     "Keeps drinks cold 24 hours, hot 12. 750 ml. Leak-proof lid. BPA free."),
    ("canvas-tote", "Canvas Market Tote", "CNV-033", "32.00", (210, 190, 150), "bag",
     "Heavy organic canvas. Inside pocket. Carries up to 15 kg. Leather handles."),
]

BACKDROPS = [((248, 246, 242), (226, 222, 214)), ((235, 242, 250), (205, 218, 235)), ((250, 240, 235), (232, 210, 200)),
             ((238, 245, 238), (210, 226, 210))]


def seed_demo_catalog(workspace: Workspace) -> int:
    """Adds the demo products that the workspace does not have yet; returns how many it added."""
    existing = set(db.session.scalars(select(Product.external_key).where(Product.workspace_id == workspace.id)))
    added = 0
    for index, (key, title, sku, price, colour, shape, description) in enumerate(DEMO_PRODUCTS):
        if key in existing:
            continue
        product = Product(
            workspace_id=workspace.id, external_key=key, title=title, sku=sku, price=Decimal(price),
            description=description, vendor="Reelboard Demo", marketplace="demo",
        )
        rng = random.Random(f"{key}")
        for position in range(2 + index % 3):
            data = demo_photo(colour, shape, position, rng)
            relative = media.new_path(f"products/{workspace.id}", ".jpg")
            media.write_atomically(relative, data)
            product.images.append(
                ProductImage(position=position, file_path=relative, status=ImageStatus.OK.value, width=1200, height=1200)
            )
        db.session.add(product)
        added += 1
    db.session.commit()
    return added


def demo_photo(colour: tuple[int, int, int], shape: str, variant: int, rng: random.Random) -> bytes:
    """A studio-style product shot: soft gradient backdrop, shadow, and the product's silhouette."""
    size = 1200
    top, bottom = BACKDROPS[(variant + rng.randrange(4)) % len(BACKDROPS)]
    backdrop = Image.linear_gradient("L").resize((size, size))
    image = Image.composite(Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top), backdrop)

    shadow = Image.new("L", (size, size), 0)
    ImageDraw.Draw(shadow).ellipse((330, 930, 870, 1010), fill=110)
    image.paste((60, 50, 40), (0, 0), shadow.filter(ImageFilter.GaussianBlur(28)))

    draw = ImageDraw.Draw(image)
    scale = (1.0, 0.82, 1.12, 0.92)[variant % 4]
    cx, cy = 600 + (variant - 1) * 40, 560
    shade = tuple(max(0, c - 45) for c in colour)
    light = tuple(min(255, c + 50) for c in colour)

    def box(w: float, h: float, dy: float = 0) -> tuple[float, float, float, float]:
        return (cx - w * scale / 2, cy + dy * scale - h * scale / 2, cx + w * scale / 2, cy + dy * scale + h * scale / 2)

    match shape:
        case "lamp":
            draw.rectangle(box(260, 30, 350), fill=shade)
            draw.line((cx, cy + 340 * scale, cx + 60 * scale, cy - 80 * scale), fill=shade, width=int(26 * scale))
            draw.polygon([(cx - 180 * scale, cy - 60 * scale), (cx + 40 * scale, cy - 260 * scale),
                          (cx + 200 * scale, cy - 60 * scale)], fill=colour)
        case "mug":
            draw.rounded_rectangle(box(320, 380), radius=40, fill=colour)
            draw.ellipse((cx + 120 * scale, cy - 110 * scale, cx + 290 * scale, cy + 110 * scale),
                         outline=colour, width=int(38 * scale))
            draw.ellipse(box(320, 60, -190), fill=light)
        case "bag":
            draw.rounded_rectangle(box(440, 520, 60), radius=60, fill=colour)
            draw.arc(box(260, 300, -220), 180, 360, fill=shade, width=int(30 * scale))
            draw.rounded_rectangle(box(300, 160, 150), radius=30, fill=shade)
        case "round":
            draw.ellipse(box(460, 460), fill=colour)
            draw.ellipse(box(300, 300), fill=shade)
            draw.ellipse(box(120, 120), fill=light)
        case "vase":
            draw.ellipse(box(420, 460, 80), fill=colour)
            draw.rectangle(box(180, 300, -200), fill=colour)
            draw.ellipse(box(200, 50, -350), fill=light)
        case "shoe":
            draw.rounded_rectangle(box(620, 220, 80), radius=90, fill=colour)
            draw.rounded_rectangle((cx - 310 * scale, cy - 140 * scale, cx + 40 * scale, cy + 120 * scale), radius=80, fill=colour)
            draw.rectangle(box(640, 40, 190), fill=(245, 245, 245))
        case "watch":
            draw.rounded_rectangle(box(150, 760), radius=50, fill=shade)
            draw.rounded_rectangle(box(320, 340), radius=70, fill=colour)
            draw.rounded_rectangle(box(250, 270), radius=50, fill=(20, 60, 70))
        case "square":
            draw.rounded_rectangle(box(560, 420), radius=30, fill=colour)
            for i in range(6):
                y = cy + (-170 + i * 68) * scale
                draw.line((cx - 270 * scale, y, cx + 270 * scale, y), fill=shade, width=int(10 * scale))
        case "kettle":
            draw.ellipse(box(440, 400, 60), fill=colour)
            draw.line((cx - 200 * scale, cy, cx - 360 * scale, cy - 220 * scale), fill=colour, width=int(30 * scale))
            draw.arc(box(360, 360, -120), 200, 340, fill=shade, width=int(30 * scale))
        case "candle":
            draw.rounded_rectangle(box(340, 400, 60), radius=30, fill=colour)
            draw.rectangle(box(12, 60, -170), fill=(60, 50, 40))
            draw.ellipse(box(60, 110, -250), fill=(255, 190, 60))
        case "headphones":
            draw.arc(box(460, 520, -60), 180, 360, fill=colour, width=int(46 * scale))
            draw.rounded_rectangle((cx - 270 * scale, cy + 10 * scale, cx - 150 * scale, cy + 230 * scale), radius=40, fill=shade)
            draw.rounded_rectangle((cx + 150 * scale, cy + 10 * scale, cx + 270 * scale, cy + 230 * scale), radius=40, fill=shade)
        case "bottle":
            draw.rounded_rectangle(box(220, 620, 60), radius=70, fill=colour)
            draw.rounded_rectangle(box(140, 110, -300), radius=20, fill=shade)
            draw.rectangle(box(220, 40, 140), fill=light)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()
