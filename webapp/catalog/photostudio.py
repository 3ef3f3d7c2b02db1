"""A small procedural photo studio for the demo catalog: products built from shaded parts, lit
by a key light, a fill and a softbox, on a seamless sweep or in a lifestyle scene.

Each part is a silhouette (a polygon drawn anti-aliased) with a normal field: ``round`` parts
are surfaces of revolution about a vertical axis (each row of the silhouette is a circle seen
from slightly above), ``inflate`` parts are soft objects whose surface rises from the outline
(bags, cushions, straps), ``flat`` parts face one way (a screen, a lid). Normals are shaded in
linear light with a diffuse key, a fill, a Blinn highlight, a Fresnel-weighted reflection of
two softboxes (the vertical highlights of studio photography) and a rim; textures bump the
normals (knit, canvas, ripstop, speaker mesh). Everything is NumPy/OpenCV on the part's own
bounding box, so a 1600 x 1067 photo takes well under half a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

RGB = tuple[int, int, int]
Array = np.ndarray

# Light directions in image space (x right, y down, z towards the camera).
_KEY = np.array([-0.55, -0.65, 0.55], np.float32) / np.linalg.norm([-0.55, -0.65, 0.55])
_FILL = np.array([0.8, -0.15, 0.6], np.float32) / np.linalg.norm([0.8, -0.15, 0.6])
_HALF = (_KEY + np.array([0, 0, 1], np.float32)) / np.linalg.norm(_KEY + np.array([0, 0, 1], np.float32))
TILT = 0.17  # the camera looks slightly down: a circle of radius r shows as an ellipse r x TILT*r


def to_linear(rgb: RGB | Array) -> Array:
    return np.power(np.asarray(rgb, np.float32) / 255.0, 2.2)


def _smooth(edge0: float, edge1: float, x: Array) -> Array:
    t = np.clip((x - edge0) / (edge1 - edge0), 0, 1)
    return t * t * (3 - 2 * t)


@dataclass(frozen=True)
class Material:
    """How a surface answers light: ``gloss`` 0 (chalk) to 1 (lacquer), ``metal`` 0 (a
    dielectric: white highlights) to 1 (highlights tinted by the colour), ``texture`` a bump
    pattern, ``emissive`` a surface that glows (a flame, a screen)."""

    colour: RGB
    gloss: float = 0.3
    metal: float = 0.0
    texture: str | None = None
    texture_px: float = 10.0
    bump: float = 0.6
    emissive: bool = False


# -- shapes (point lists in pixels) ------------------------------------------------------------

def ellipse_pts(cx: float, cy: float, rx: float, ry: float, a0: float = 0, a1: float = 360, n: int = 96) -> Array:
    t = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def rrect_pts(x0: float, y0: float, x1: float, y1: float, r: float) -> Array:
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    corners = [(x1 - r, y0 + r, 270, 360), (x1 - r, y1 - r, 0, 90), (x0 + r, y1 - r, 90, 180), (x0 + r, y0 + r, 180, 270)]
    return np.concatenate([ellipse_pts(cx, cy, r, r, a, b, 12) for cx, cy, a, b in corners])


def revolve_pts(cx: float, rows: list[tuple[float, float]], tilt: float = TILT) -> Array:
    """Silhouette of a surface of revolution: ``rows`` are (y, radius) from top to bottom; the
    bottom edge is the front half of the base ellipse, the top edge the front half of the rim."""
    ys = np.array([y for y, _ in rows], np.float32)
    rs = np.array([r for _, r in rows], np.float32)
    fine = np.linspace(ys[0], ys[-1], 64)
    radius = np.interp(fine, ys, rs)
    left = np.stack([cx - radius, fine], 1)
    right = np.stack([cx + radius, fine], 1)[::-1]
    bottom = ellipse_pts(cx, ys[-1], rs[-1], rs[-1] * tilt, 180, 0, 48)
    top = ellipse_pts(cx, ys[0], rs[0], rs[0] * tilt, 0, 180, 48)
    return np.concatenate([left, bottom, right, top])


def smooth_pts(points: Array, per_segment: int = 10) -> Array:
    """A closed Catmull-Rom curve through ``points``: an organic outline from a few corners."""
    p = np.asarray(points, np.float32)
    t = np.linspace(0, 1, per_segment, endpoint=False, dtype=np.float32)[:, None]
    out = []
    for i in range(len(p)):
        p0, p1, p2, p3 = p[i - 1], p[i], p[(i + 1) % len(p)], p[(i + 2) % len(p)]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    return np.concatenate(out)


def stroke_pts(points: list[tuple[float, float]], width: float, n: int = 64) -> Array:
    """A smooth tube along ``points`` (a Catmull-Rom curve) as a closed polygon."""
    p = np.array(points, np.float32)
    if len(p) > 2:
        pad = np.concatenate([p[:1], p, p[-1:]])
        segments = []
        for i in range(1, len(pad) - 2):
            t = np.linspace(0, 1, max(4, n // (len(p) - 1)), endpoint=False)[:, None]
            p0, p1, p2, p3 = pad[i - 1], pad[i], pad[i + 1], pad[i + 2]
            segments.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                                   + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
        p = np.concatenate(segments + [p[-1:]])
    d = np.gradient(p, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-6
    normal = np.stack([-d[:, 1], d[:, 0]], 1) * width / 2
    left, right = p + normal, (p - normal)[::-1]
    cap_end = ellipse_pts(*p[-1], width / 2, width / 2, np.degrees(np.arctan2(normal[-1, 1], normal[-1, 0])),
                          np.degrees(np.arctan2(normal[-1, 1], normal[-1, 0])) - 180, 12)
    cap_start = ellipse_pts(*p[0], width / 2, width / 2, np.degrees(np.arctan2(-normal[0, 1], -normal[0, 0])),
                            np.degrees(np.arctan2(-normal[0, 1], -normal[0, 0])) - 180, 12)
    return np.concatenate([left, cap_end, right, cap_start])


# -- textures (height fields in about -1..1) ---------------------------------------------------

def value_noise(h: int, w: int, cell: float, rng: np.random.Generator) -> Array:
    """Smooth noise: random values on a coarse grid, resized with bicubic interpolation."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    big = cv2.resize(grid, (int(gw * cell), int(gh * cell)), interpolation=cv2.INTER_CUBIC)
    return big[:h, :w] / 1.2


def texture(kind: str, h: int, w: int, px: float, rng: np.random.Generator) -> Array:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "knit":  # columns of V-shaped stitches
        u, v = x / px, y / (px * 0.7)
        chevron = np.abs((u % 1.0) - 0.5)
        return np.cos(2 * np.pi * (v + chevron * 1.4)) * 0.8 + 0.4 * np.cos(2 * np.pi * u) * 0.5
    if kind == "canvas":  # plain weave
        return (np.sin(2 * np.pi * x / px) * np.sin(2 * np.pi * y / px) * 0.6
                + value_noise(h, w, px * 3, rng) * 0.4)
    if kind == "ripstop":  # a grid of heavier threads over fine weave
        grid = np.maximum(_smooth(0.8, 1.0, np.cos(2 * np.pi * x / px)), _smooth(0.8, 1.0, np.cos(2 * np.pi * y / px)))
        return grid * 0.9 + np.sin(2 * np.pi * x / 3) * np.sin(2 * np.pi * y / 3) * 0.15
    if kind == "mesh":  # speaker grille: a hexagonal grid of holes
        row = np.floor(y / px)
        xs = x / px + 0.5 * (row % 2)
        d = np.hypot((xs % 1.0) - 0.5, (y / px % 1.0) - 0.5)
        return 1.0 - 2.0 * _smooth(0.18, 0.32, d)
    if kind == "speckle":  # glaze with iron speckles
        n = rng.random((h, w)).astype(np.float32)
        return np.where(n > 0.996, -1.0, 0.0).astype(np.float32) + value_noise(h, w, px * 4, rng) * 0.3
    if kind == "grain":  # wood, along x
        return np.sin((y + value_noise(h, w, px * 6, rng) * px * 2.5) * 2 * np.pi / px) * 0.7 \
            + value_noise(h, w, px, rng) * 0.3
    return value_noise(h, w, px, rng)  # "noise": a fine matte surface


# -- normals -----------------------------------------------------------------------------------

def _normals_revolved(shape: tuple[int, int], origin: tuple[int, int], profile: tuple[float, Array, Array]) -> Array:
    """Normals of a surface of revolution about the vertical line ``cx`` with radius ``rs`` at
    heights ``ys``, seen from slightly above: a surface point at height y shows TILT * r * cos
    (its angle) lower on screen, so each pixel's height is found by two fixed-point steps."""
    cx, ys, rs = profile
    h, w = shape
    X = np.arange(w, dtype=np.float32)[None, :] + origin[0]
    Y = np.arange(h, dtype=np.float32)[:, None] + origin[1]
    y = np.broadcast_to(Y, (h, w))
    for _ in range(2):
        r = np.maximum(np.interp(y, ys, rs).astype(np.float32), 1.0)
        nx = np.clip((X - cx) / r, -0.995, 0.995)
        y = Y - TILT * r * np.sqrt(1 - nx ** 2)
    slope = np.interp(y, ys, np.gradient(rs, ys) if len(ys) > 1 else np.zeros_like(rs)).astype(np.float32)
    nz = np.sqrt(1 - nx ** 2)
    n = np.stack([nx, -np.clip(slope, -3, 3) * nz, nz], -1)
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def _normals_inflate(cover: Array, bevel: float) -> Array:
    inside = (cover > 0.5).astype(np.uint8)
    d = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    t = np.clip(d / max(1.0, bevel), 0, 1)
    height = bevel * np.sqrt(1 - (1 - t) ** 2)
    height = _blur(height, max(0.8, bevel * 0.12))
    gy, gx = np.gradient(height)
    n = np.stack([-gx, -gy, np.ones_like(gx)], -1)
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def _normals_flat(cover: Array, facing: tuple[float, float, float], bevel: float) -> Array:
    n = _normals_inflate(cover, bevel) if bevel > 0 else np.zeros((*cover.shape, 3), np.float32) + [0, 0, 1]
    f = np.array(facing, np.float32) / np.linalg.norm(facing)
    n = n + f - np.array([0, 0, 1], np.float32)
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def _bump(n: Array, height: Array, amount: float) -> Array:
    gy, gx = np.gradient(height * amount)
    out = n + np.stack([-gx, -gy, np.zeros_like(gx)], -1)
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def _softboxes(nx: Array, ny: Array, nz: Array) -> Array:
    """Brightness of the studio reflected in the surface: two tall softboxes (a big key on the
    left, a strip on the right), a bright ceiling and a dark floor."""
    rx, ry = 2 * nz * nx, 2 * nz * ny
    key = _smooth(-0.95, -0.75, rx) * (1 - _smooth(-0.4, -0.22, rx)) * (1 - _smooth(0.1, 0.45, ry))
    strip = _smooth(0.5, 0.6, rx) * (1 - _smooth(0.72, 0.8, rx)) * (1 - _smooth(0.0, 0.4, ry))
    return 0.41 + 1.6 * key + 0.9 * strip - 0.35 * _smooth(-0.6, 0.3, ry)


def shade(n: Array, base: Array, material: Material) -> Array:
    """Linear RGB of surface points with normals ``n`` (N x 3) and linear colours ``base``."""
    if material.emissive:
        return np.asarray(base, np.float32)
    nx, ny, nz = n[:, 0], n[:, 1], np.maximum(n[:, 2], 0)
    ndl = nx * _KEY[0] + ny * _KEY[1] + nz * _KEY[2]
    diffuse = np.clip((ndl + 0.25) * 0.8, 0, 1)
    diffuse *= np.sqrt(diffuse) ** 0.6  # a slightly harder terminator than Lambert
    fill = np.maximum(nx * _FILL[0] + ny * _FILL[1] + nz * _FILL[2], 0)
    edge = 1 - nz
    light = 1.05 * diffuse + 0.14 * fill + 0.08 - 0.05 * ny
    out = base * light[:, None]
    env = _softboxes(nx, ny, nz)
    spec = np.maximum(nx * _HALF[0] + ny * _HALF[1] + nz * _HALF[2], 0) ** (8 + 240 * material.gloss)
    if material.metal > 0:
        metal = base * (0.15 + 0.85 * env)[:, None] + spec[:, None] * (0.4 + base)
        out = out * (1 - material.metal) + metal * material.metal
    coat = material.gloss * (1 - material.metal)
    edge2 = edge * edge
    fresnel = 0.04 + 0.96 * edge2 * edge2 * edge
    rim = edge2 * edge * _smooth(-0.2, 0.6, nx)
    extra = coat * (env * (fresnel * 0.45 + 0.05) + spec * 1.4) + (0.1 + 0.25 * material.gloss) * rim
    return out + extra[:, None]


# -- the product layer -------------------------------------------------------------------------

class ProductLayer:
    """A product drawn part by part into premultiplied linear RGB + alpha, with its silhouette
    (``cover``, what a perfect cut-out would keep) tracked separately from opacity (glass)."""

    def __init__(self, width: int, height: int, rng: np.random.Generator):
        self.w, self.h = width, height
        self.rgb = np.zeros((height, width, 3), np.float32)
        self.alpha = np.zeros((height, width), np.float32)
        self.cover = np.zeros((height, width), np.float32)
        self.rng = rng

    def _mask(self, polygons: list[Array]) -> tuple[Array, tuple[int, int, int, int]] | None:
        points = np.concatenate(polygons)
        x0 = max(0, int(points[:, 0].min()) - 2)
        y0 = max(0, int(points[:, 1].min()) - 2)
        x1 = min(self.w, int(points[:, 0].max()) + 3)
        y1 = min(self.h, int(points[:, 1].max()) + 3)
        if x1 <= x0 or y1 <= y0:
            return None
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        shifted = [np.round((p - [x0, y0]) * 16).astype(np.int32) for p in polygons]
        cv2.fillPoly(mask, shifted, 255, cv2.LINE_AA, shift=4)
        return mask.astype(np.float32) / 255.0, (x0, y0, x1, y1)

    def revolve(self, cx: float, rows: list[tuple[float, float]], material: Material, **options) -> None:
        """A surface of revolution: ``rows`` are (y, radius) in pixels from top to bottom."""
        ys = np.array([y for y, _ in rows], np.float32)
        rs = np.array([r for _, r in rows], np.float32)
        self.part(revolve_pts(cx, rows), material, normals="round", profile=(cx, ys, rs), **options)

    def part(self, polygons: Array | list[Array], material: Material, *, normals: str = "inflate",
             bevel: float = 10.0, facing: tuple[float, float, float] = (0, 0, 1), opacity: float = 1.0,
             ramp: tuple[float, float] | None = None, cut: list[Array] | None = None, occlude: float = 0.0,
             profile: tuple[float, Array, Array] | None = None) -> None:
        """Draw one part. ``ramp`` multiplies the lit colour from its top to its bottom (light
        falling into an opening), ``cut`` polygons are holes, ``occlude`` darkens where the part
        meets what is already drawn under it."""
        polygons = polygons if isinstance(polygons, list) else [polygons]
        made = self._mask(polygons)
        if made is None:
            return
        cover, (x0, y0, x1, y1) = made
        if cut:
            holes = np.zeros(cover.shape, np.uint8)
            cv2.fillPoly(holes, [np.round((p - [x0, y0]) * 16).astype(np.int32) for p in cut], 255,
                         cv2.LINE_AA, shift=4)
            cover = cover * (1 - holes.astype(np.float32) / 255.0)
        h, w = cover.shape
        if normals == "round" and profile is not None:
            n = _normals_revolved(cover.shape, (x0, y0), profile)
        elif normals == "inflate":
            n = _normals_inflate(cover, bevel)
        else:
            n = _normals_flat(cover, facing, bevel)
        # everything from here is computed on the covered pixels only (a flat list): a curved
        # part leaves much of its box empty
        covered = cover > 0.002
        base = np.broadcast_to(to_linear(material.colour).astype(np.float32), (int(covered.sum()), 3))
        if material.texture:
            tex = texture(material.texture, h, w, material.texture_px, self.rng)
            n = _bump(n, tex, material.bump)
            base = base * (1 + 0.12 * tex[covered])[:, None]
        lit = shade(n[covered], base, material)
        if ramp is not None:
            lit *= np.broadcast_to(np.linspace(ramp[0], ramp[1], h, dtype=np.float32)[:, None], (h, w))[covered][:, None]
        if occlude:
            under = _blur(self.alpha[y0:y1, x0:x1], max(1.0, bevel * 0.6))
            lit *= (1 - occlude * under[covered])[:, None]
        a = (cover[covered] * opacity)[:, None]
        rgb, alpha = self.rgb[y0:y1, x0:x1], self.alpha[y0:y1, x0:x1]
        rgb[covered] = lit * a + rgb[covered] * (1 - a)
        alpha[covered] = a[:, 0] + alpha[covered] * (1 - a[:, 0])
        np.maximum(self.cover[y0:y1, x0:x1], cover, out=self.cover[y0:y1, x0:x1])

    def glow(self, cx: float, cy: float, radius: float, colour: RGB, strength: float) -> None:
        """Additive light (a flame's halo, a lit bulb) over the product."""
        x0, y0 = max(0, int(cx - 3 * radius)), max(0, int(cy - 3 * radius))
        x1, y1 = min(self.w, int(cx + 3 * radius)), min(self.h, int(cy + 3 * radius))
        y, x = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        g = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius ** 2)) * strength
        # premultiplied light with no opacity: it adds to whatever is behind the product
        self.rgb[y0:y1, x0:x1] += g[..., None] * to_linear(colour)

    def bbox(self) -> tuple[int, int, int, int]:
        ys, xs = np.nonzero(self.cover > 0.5)
        return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


Draw = Callable[[ProductLayer, float, float, float, RGB], None]


# -- backgrounds -------------------------------------------------------------------------------

def sweep(width: int, height: int, top: RGB, bottom: RGB, light: tuple[float, float], rng: np.random.Generator) -> Array:
    """A seamless paper sweep in linear RGB: wall to floor gradient, a pool of key light
    around ``light`` (fractions of the frame), darker corners. Smooth, so it is computed at a
    quarter of the size and enlarged."""
    full = (width, height)
    width, height = max(2, width // 4), max(2, height // 4)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    t = _smooth(0.15, 0.95, y)
    base = to_linear(top)[None, None] * (1 - t[..., None]) + to_linear(bottom)[None, None] * t[..., None]
    aspect = width / height
    d2 = ((x - light[0]) * aspect) ** 2 + (y - light[1]) ** 2
    pool = 0.78 + 0.42 * np.exp(-d2 / 0.22)
    vignette = 1 - 0.22 * (((x - 0.5) * 1.6) ** 2 + ((y - 0.45) * 1.4) ** 2)
    return cv2.resize(base * (pool * vignette)[..., None], full, interpolation=cv2.INTER_LINEAR)


def _blur(image: Array, sigma: float) -> Array:
    """Gaussian blur; a wide one is done on a smaller copy (the same look, a fraction of the time)."""
    if sigma <= 0:
        return image
    if sigma < 4:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    factor = sigma / 2
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 2)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def contact_shadows(background: Array, layer: ProductLayer, floor_y: float, strength: float = 1.0,
                    direction: float = 1.0) -> Array:
    """Darken ``background`` under the product: a tight occlusion where it touches the floor
    and a broad soft shadow thrown away from the key light (to the right for ``direction`` 1)."""
    x0, y0, x1, y1 = layer.bbox()
    h_px, w_px = y1 - y0, x1 - x0
    foot = layer.cover[max(y0, y1 - max(3, h_px // 25)):y1, x0:x1].max(0)
    cols = np.nonzero(foot > 0.5)[0]
    fx0, fx1 = (x0 + cols.min(), x0 + cols.max()) if len(cols) else (x0, x1)
    cx, rx = (fx0 + fx1) / 2, max(8.0, (fx1 - fx0) / 2)
    ry = max(3.0, rx * TILT)
    soft_rx, soft_ry = rx * 1.45 + w_px * 0.1, ry * 2.2
    # both shadows are drawn and blurred in a window around the footprint, not the whole frame
    pad = 3 * max(6.0, rx * 0.3)
    H, W = background.shape[:2]
    wx0, wx1 = max(0, int(cx - soft_rx - abs(rx * 0.35) - pad)), min(W, int(cx + soft_rx + rx * 0.35 + pad))
    wy0, wy1 = max(0, int(floor_y - soft_ry * 1.7 - pad)), min(H, int(floor_y + soft_ry + pad))
    if wx1 <= wx0 or wy1 <= wy0:
        return background
    # the tight shadow follows the real footprint (two feet cast two shadows)
    shadow = np.zeros((wy1 - wy0, wx1 - wx0), np.float32)
    row = int(floor_y - ry * 0.3 - wy0)
    if 0 <= row < shadow.shape[0]:
        span = slice(max(x0, wx0) - wx0, min(x1, wx1) - wx0)
        shadow[max(0, row - int(ry * 0.5)):row + 1, span] = foot[max(x0, wx0) - x0:min(x1, wx1) - x0] > 0.5
    tight = _blur(shadow, max(2.0, ry * 0.35)) * 0.75
    soft = np.zeros_like(shadow)
    cv2.ellipse(soft, (int(cx + direction * rx * 0.35 - wx0), int(floor_y - ry * 0.7 - wy0)),
                (int(soft_rx), int(soft_ry)), 0, 0, 360, 1.0, -1)
    soft = _blur(soft, max(6.0, rx * 0.3)) * 0.42
    dark = np.clip((tight + soft) * strength, 0, 0.9)
    background[wy0:wy1, wx0:wx1] *= (1 - dark)[..., None]
    return background


def floor_reflection(background: Array, layer: ProductLayer, floor_y: float, strength: float) -> Array:
    """A faint mirror of the product's lower part on a glossy floor, fading quickly."""
    _, y0, _, y1 = layer.bbox()
    depth = int(min(background.shape[0] - floor_y, (y1 - y0) * 0.3))
    if depth < 4:
        return background
    fy = int(floor_y)
    src_rgb = layer.rgb[fy - depth:fy][::-1]
    src_a = layer.alpha[fy - depth:fy][::-1]
    fade = (np.linspace(1, 0, depth, dtype=np.float32) ** 2)[:, None] * strength
    a = _blur(src_a * fade, 2.0)
    rgb = _blur(src_rgb, 2.0)
    out = background.copy()
    region = out[fy:fy + depth]
    out[fy:fy + depth] = region * (1 - a[..., None]) + rgb * fade[..., None] * strength
    return out


def composite(background: Array, layer: ProductLayer) -> Array:
    return layer.rgb + background * (1 - layer.alpha[..., None])


def finish(linear: Array, rng: np.random.Generator, grain: float = 2.2) -> Array:
    """The 8-bit sRGB photo, with sensor grain (which also keeps gradients from banding once
    the photo is encoded)."""
    h, w = linear.shape[:2]
    srgb = cv2.pow(linear, 1 / 2.2)  # nothing is negative; above 1 saturates below
    tile = (rng.standard_normal((256, 256)) * grain / 255).astype(np.float32)
    srgb += np.tile(tile, (h // 256 + 1, w // 256 + 1))[:h, :w, None]
    return cv2.convertScaleAbs(srgb, alpha=255)


# -- lifestyle scenes --------------------------------------------------------------------------

@dataclass(frozen=True)
class Scene:
    """A lifestyle background in linear RGB, already focused (the far planes blurred), and
    where the product stands in it: its centre x, the floor line and its height, in pixels."""

    image: Array
    cx: float
    floor_y: float
    product_h: float
    shadow_direction: float


def _vertical(height: int, width: int, top: RGB, bottom: RGB, y0: float = 0.0, y1: float = 1.0) -> Array:
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    t = np.clip((y - y0) / max(1e-3, y1 - y0), 0, 1)
    column = to_linear(top) * (1 - t) + to_linear(bottom) * t
    return np.broadcast_to(column, (height, width, 3)).copy()


def _light_patch(image: Array, polygon: Array, strength: float, blur: float) -> Array:
    mask = np.zeros(image.shape[:2], np.float32)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1.0)
    return image * (1 + strength * _blur(mask, blur))[..., None]


def desk_scene(width: int, height: int, rng: np.random.Generator, product_left: bool) -> Scene:
    """A home-office desk by a window: oak top, a plant, a picture and books out of focus."""
    W, H = width, height
    horizon = 0.6 * H
    image = _vertical(H, W, (226, 218, 206), (203, 192, 176))
    for shift in (0.0, 0.17):  # window light falling on the wall
        x = W * (0.08 + shift)
        image = _light_patch(image, np.array([[x, 0], [x + 0.12 * W, 0], [x + 0.26 * W, horizon], [x + 0.14 * W, horizon]]),
                             0.35, W * 0.02)
    props = ProductLayer(W, H, rng)
    frame_x = 0.58 * W if product_left else 0.1 * W
    props.part(rrect_pts(frame_x, 0.12 * H, frame_x + 0.2 * W, 0.4 * H, 3), Material((70, 62, 54), 0.3), bevel=6)
    props.part(rrect_pts(frame_x + 0.015 * W, 0.14 * H, frame_x + 0.185 * W, 0.38 * H, 2), Material((196, 176, 148), 0.05),
               normals="flat", bevel=0, ramp=(1.2, 0.75))
    pot_x = W * (0.86 if product_left else 0.2)
    props.revolve(pot_x, [(horizon - 0.16 * H, 0.055 * W), (horizon + 0.02 * H, 0.042 * W)],
                  Material((196, 112, 80), 0.15, texture="noise", texture_px=6))
    for i in range(9):  # leaves of a fiddle-leaf fig
        angle = -160 + i * 17 + rng.uniform(-6, 6)
        length = H * rng.uniform(0.1, 0.17)
        root = (pot_x, horizon - 0.17 * H)
        tip = (root[0] + np.cos(np.radians(angle)) * length, root[1] + np.sin(np.radians(angle)) * length * 1.3)
        leaf = stroke_pts([root, ((root[0] + tip[0]) / 2, (root[1] + tip[1]) / 2 - 8), tip], H * 0.045)
        green = (int(60 + rng.integers(0, 30)), int(110 + rng.integers(0, 40)), int(60 + rng.integers(0, 20)))
        props.part(leaf, Material(green, 0.35), bevel=H * 0.015)
    books_x = W * (0.06 if product_left else 0.66)
    top = horizon + 0.03 * H
    for colour, thickness in (((40, 60, 90), 0.035), ((180, 150, 110), 0.03), ((150, 60, 50), 0.04)):
        props.part(rrect_pts(books_x, top - thickness * H, books_x + 0.26 * W, top, 4), Material(colour, 0.15), bevel=5)
        top -= thickness * H
    image = _blur(composite(image, props), W * 0.007)
    desk = _vertical(H, W, (196, 152, 108), (150, 106, 70), 0.6, 1.0)
    desk *= (1 + 0.1 * texture("grain", H, W, H * 0.012, rng))[..., None]
    desk[int(horizon):int(horizon) + 2] *= 0.6  # the desk's back edge against the wall
    image[int(horizon):] = _blur(desk, 1.0)[int(horizon):]
    cx = W * (0.34 if product_left else 0.66)
    return Scene(image, cx, 0.86 * H, 0.56 * H, 1.0)


def shelf_scene(width: int, height: int, rng: np.random.Generator, product_left: bool) -> Scene:
    """A wall shelf: painted wall, an oak plank, books and a small jar beside the product."""
    W, H = width, height
    image = _vertical(H, W, (188, 198, 184), (160, 172, 156))
    plank_top, plank_front, plank_bottom = 0.74 * H, 0.79 * H, 0.83 * H
    upper = int(0.1 * H)
    image[:upper] = _vertical(upper, W, (150, 112, 78), (120, 86, 58))
    shade_rows = int(0.05 * H)
    image[upper:upper + shade_rows] *= np.linspace(0.55, 1, shade_rows, dtype=np.float32)[:, None, None]
    props = ProductLayer(W, H, rng)
    books_x = W * (0.62 if product_left else 0.06)
    for i, (colour, bw, bh) in enumerate((((62, 74, 110), 0.05, 0.34), ((214, 190, 150), 0.04, 0.3),
                                          ((120, 50, 46), 0.055, 0.37), ((70, 96, 80), 0.035, 0.28))):
        props.part(rrect_pts(books_x, plank_front - 0.015 * H - bh * H, books_x + bw * W, plank_front - 0.015 * H, 3),
                   Material(colour, 0.12, texture="noise", texture_px=4), bevel=6)
        books_x += bw * W + (2 if i % 2 else 0)
    jar_x = W * (0.9 if product_left else 0.36)
    props.revolve(jar_x, [(plank_front - 0.16 * H, 0.035 * W), (plank_front - 0.13 * H, 0.05 * W),
                          (plank_front - 0.015 * H, 0.045 * W)], Material((235, 230, 220), 0.6))
    props.part(ellipse_pts(jar_x, plank_front - 0.16 * H, 0.035 * W, 0.035 * W * TILT), Material((120, 100, 80), 0.3),
               normals="flat", bevel=0)
    plank = _vertical(H, W, (196, 156, 114), (172, 132, 92), 0.74, 0.79)
    plank *= (1 + 0.08 * texture("grain", H, W, H * 0.01, rng))[..., None]
    image[int(plank_top):int(plank_front)] = plank[int(plank_top):int(plank_front)]
    image[int(plank_front):int(plank_bottom)] = _vertical(int(plank_bottom) - int(plank_front), W, (150, 110, 74),
                                                           (118, 84, 54))
    image[int(plank_bottom):] = _vertical(H - int(plank_bottom), W, (110, 118, 104), (160, 172, 156), 0.0, 0.5)
    image = _blur(composite(image, props), W * 0.0025)
    cx = W * (0.32 if product_left else 0.64)
    return Scene(image, cx, plank_front - 0.012 * H, 0.52 * H, 1.0)


def kitchen_scene(width: int, height: int, rng: np.random.Generator, product_left: bool) -> Scene:
    """A kitchen counter: white subway tiles, marble top, a cutting board and a bottle behind."""
    W, H = width, height
    horizon = 0.62 * H
    image = _vertical(H, W, (236, 234, 228), (214, 212, 206))
    tile_h, tile_w = H * 0.07, W * 0.12
    y = np.arange(H, dtype=np.float32)[:, None]
    x = np.arange(W, dtype=np.float32)[None, :]
    row = np.floor(y / tile_h)
    grout = (((x + (row % 2) * tile_w / 2) % tile_w) < 2) | ((y % tile_h) < 2)
    image *= np.where(grout, 0.8, 1.0).astype(np.float32)[..., None]
    image = _light_patch(image, np.array([[0.0, 0], [0.5 * W, 0], [0.3 * W, horizon], [0, horizon]]), 0.18, W * 0.05)
    props = ProductLayer(W, H, rng)
    bottle_x = W * (0.86 if product_left else 0.14)
    props.revolve(bottle_x, [(horizon - 0.4 * H, 0.012 * W), (horizon - 0.3 * H, 0.014 * W),
                             (horizon - 0.22 * H, 0.04 * W), (horizon + 0.01 * H, 0.042 * W)],
                  Material((90, 110, 40), 0.9), opacity=0.9)
    board_x = W * (0.6 if product_left else 0.06)
    board = rrect_pts(board_x, horizon - 0.42 * H, board_x + 0.22 * W, horizon + 0.02 * H, W * 0.03)
    hole = ellipse_pts(board_x + 0.11 * W, horizon - 0.37 * H, 0.018 * W, 0.018 * W)
    props.part(board, Material((176, 128, 84), 0.2, texture="grain", texture_px=7), bevel=8, cut=[hole])
    image = _blur(composite(image, props), W * 0.004)
    marble = _vertical(H, W, (232, 230, 226), (206, 204, 200), 0.62, 1.0)
    veins = np.abs(value_noise(H, W, W * 0.08, rng) + 0.4 * value_noise(H, W, W * 0.02, rng))
    marble *= (1 - 0.22 * (1 - _smooth(0.0, 0.06, veins)))[..., None]
    image[int(horizon):] = _blur(marble, 1.0)[int(horizon):]
    image[int(horizon):int(horizon) + 2] *= 0.75
    cx = W * (0.36 if product_left else 0.64)
    return Scene(image, cx, 0.85 * H, 0.5 * H, -1.0)


def outdoor_scene(width: int, height: int, rng: np.random.Generator, product_left: bool) -> Scene:
    """A trail at golden hour: sky, hazy ridges, a meadow and a granite boulder in front."""
    W, H = width, height
    image = _vertical(H, W, (120, 160, 210), (240, 214, 178), 0.0, 0.55)
    y = np.arange(H, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, W, dtype=np.float32)
    sun_x = 0.82 if product_left else 0.18
    sun = np.exp(-(((np.arange(W, dtype=np.float32)[None, :] / W - sun_x) * W / H) ** 2 + (y / H - 0.3) ** 2) / 0.02)
    image += (sun * 0.5)[..., None] * to_linear((255, 230, 190))
    for level, colour, roughness in ((0.42, (150, 160, 185), 0.05), (0.5, (110, 130, 130), 0.07), (0.58, (80, 110, 70), 0.05)):
        ridge = level * H - (np.sin(x * 7 + rng.uniform(0, 6)) * 0.5 + np.sin(x * 17 + rng.uniform(0, 6)) * 0.25
                             + value_noise(1, W, W * 0.05, rng)[0] * 0.3) * roughness * H
        below = _smooth(-1.5, 1.5, y - ridge[None, :])
        image = image * (1 - below[..., None]) + to_linear(colour) * below[..., None] * (0.85 + 0.15 * y / H)[..., None]
    image = _blur(image, W * 0.006)
    meadow = _vertical(H, W, (110, 130, 60), (70, 92, 40), 0.6, 1.0) * (1 + 0.18 * texture("noise", H, W, 5, rng))[..., None]
    image[int(0.64 * H):] = _blur(meadow, 2.0)[int(0.64 * H):]
    rock = ProductLayer(W, H, rng)
    rx = W * (0.36 if product_left else 0.64)
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    wobble = 1 + 0.08 * np.sin(angles * 3 + rng.uniform(0, 6)) + 0.05 * np.sin(angles * 7 + rng.uniform(0, 6))
    outline = np.stack([rx + np.cos(angles) * 0.3 * W * wobble,
                        0.9 * H + np.minimum(np.sin(angles), 0.35) * 0.2 * H * wobble], 1)
    rock.part(outline, Material((128, 124, 118), 0.15, texture="noise", texture_px=max(4, W / 60), bump=1.2),
              bevel=H * 0.08)
    image = composite(image, rock)
    return Scene(image, rx, 0.86 * H, 0.54 * H, 1.0 if product_left else -1.0)


SCENES: dict[str, Callable[[int, int, np.random.Generator, bool], Scene]] = {
    "desk": desk_scene, "shelf": shelf_scene, "kitchen": kitchen_scene, "outdoor": outdoor_scene,
}
