#!/usr/bin/env python3
"""Draw the charts of Docs/scaling.md from the figures of `herd simulate study --tsv`.

`herd simulate study` runs the flooding protocol over simulated herds of growing size
(topologies reference, ring, tree, random3, random4; N = 5 ... 1000 servers; variants
such as eager and plumtree; conditions clean, loss1 and partition) and, with --tsv,
prints one tab-separated row per run under this header:

    topology servers variant condition updates hops convergence_ms messages_per_update rmr bytes_per_update

This script turns those rows into four PNG line charts, one per metric, with the
servers N on a log10 x axis and one line per (topology, variant, condition):

    convergence.png   Convergence time (simulated ms)        <- convergence_ms
    hops.png          Delivery hops to the last server        <- hops
    messages.png      Relative message redundancy             <- rmr
    bytes.png         Bytes per update, whole herd            <- bytes_per_update

Docs/scaling.md shows these images next to its tables of the same figures; after
the study changes, draw them again and commit the PNGs with the page:

    herd simulate study --tsv > /tmp/figures.tsv
    python3 Scripts/plot-scaling.py /tmp/figures.tsv Docs/scaling
    python3 Scripts/plot-scaling.py --condition clean /tmp/figures.tsv Docs/scaling

Usage: plot-scaling.py [--condition NAME] FIGURES.tsv OUTDIR   (FIGURES.tsv may be -
for standard input). --condition keeps only that condition's rows and appends -NAME to
each file name (convergence-clean.png ...). The paths written are printed, one a line.

Colour stands for the topology, the line style for the condition (clean solid, loss1
dashed, partition dotted) and the marker for the variant (eager a filled circle, any
other variant a hollow square, a triangle, ...). The legend is a table: one row per
topology, one column per (variant, condition), each cell showing that series' line.
The y axis is linear from 0, or log10 when the largest positive value is more than 50
times the smallest (the axis label says which). A log axis that must show values <= 0
(a tree's RMR is 0) draws them on a "0" line at the bottom, below a break in the axis,
and a note under the chart says so.

Standard library only (the PNG is written with zlib and struct, the text with the
5x7 pixel font below, doubled), no network; the same input gives the same bytes.
Lines starting with # and blank lines are ignored. A missing file, a malformed row
(the message names the line and the field) or no rows at all stop it with status 1.
"""

import argparse
import math
import os
import struct
import sys
import zlib

COLUMNS = ("topology", "servers", "variant", "condition", "updates", "hops",
           "convergence_ms", "messages_per_update", "rmr", "bytes_per_update")
INTEGER_COLUMNS = ("servers", "updates", "hops")
FLOAT_COLUMNS = ("convergence_ms", "messages_per_update", "rmr", "bytes_per_update")

# (column, file stem, chart title, y axis label before "(linear)" / "(log scale)")
METRICS = (
    ("convergence_ms", "convergence", "Convergence time (simulated ms)", "simulated ms"),
    ("hops", "hops", "Delivery hops to the last server", "hops"),
    ("rmr", "messages", "Relative message redundancy (messages per update / (N-1) - 1)", "RMR"),
    ("bytes_per_update", "bytes", "Bytes per update, whole herd", "bytes"),
)

PROGRAM = "plot-scaling"


class InputError(Exception):
    """Bad input: the message is printed as it is and the script exits with status 1."""


# --------------------------------------------------------------------------------------
# PNG writer: 8-bit RGB, no interlace, every row filter type 0, one IDAT chunk.
# --------------------------------------------------------------------------------------

def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png_bytes(width, height, rgb):
    """The PNG file for `rgb`: width * height * 3 bytes, rows top to bottom."""
    stride = width * 3
    raw = b"".join(b"\x00" + bytes(rgb[y * stride:(y + 1) * stride]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


# --------------------------------------------------------------------------------------
# Font: 5 pixels wide, 7 high from the cap line to the baseline; g j p q y , ; have two
# more rows below the baseline. Each glyph is its rows, top first, "#" for ink.
# --------------------------------------------------------------------------------------

FONT = {
    " ": "..... ..... ..... ..... ..... ..... .....",
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    "A": ".###. #...# #...# ##### #...# #...# #...#",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "D": "###.. #..#. #...# #...# #...# #..#. ###..",
    "E": "##### #.... #.... ####. #.... #.... #####",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####",
    "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
    "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    "a": "..... ..... .###. ....# .#### #...# .####",
    "b": "#.... #.... #.##. ##..# #...# #...# ####.",
    "c": "..... ..... .###. #.... #.... #...# .###.",
    "d": "....# ....# .##.# #..## #...# #...# .####",
    "e": "..... ..... .###. #...# ##### #.... .###.",
    "f": "..##. .#..# .#... ###.. .#... .#... .#...",
    "g": "..... ..... .#### #...# #...# #...# .#### ....# .###.",
    "h": "#.... #.... #.##. ##..# #...# #...# #...#",
    "i": "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
    "j": "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..",
    "k": "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
    "l": ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "m": "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#",
    "n": "..... ..... #.##. ##..# #...# #...# #...#",
    "o": "..... ..... .###. #...# #...# #...# .###.",
    "p": "..... ..... ####. #...# #...# #...# ####. #.... #....",
    "q": "..... ..... .#### #...# #...# #...# .#### ....# ....#",
    "r": "..... ..... #.##. ##..# #.... #.... #....",
    "s": "..... ..... .###. #.... .###. ....# ####.",
    "t": ".#... .#... ###.. .#... .#... .#..# ..##.",
    "u": "..... ..... #...# #...# #...# #..## .##.#",
    "v": "..... ..... #...# #...# #...# .#.#. ..#..",
    "w": "..... ..... #...# #...# #.#.# #.#.# .#.#.",
    "x": "..... ..... #...# .#.#. ..#.. .#.#. #...#",
    "y": "..... ..... #...# #...# #...# #...# .#### ....# .###.",
    "z": "..... ..... ##### ...#. ..#.. .#... #####",
    "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
    '"': ".#.#. .#.#. ..... ..... ..... ..... .....",
    "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
    "$": "..#.. .#### #.#.. .###. ..#.# ####. ..#..",
    "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
    "&": ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#",
    "'": "..#.. ..#.. ..... ..... ..... ..... .....",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
    ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    "*": "..... ..#.. #.#.# .###. #.#.# ..#.. .....",
    "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
    ",": "..... ..... ..... ..... ..... .##.. .##.. ..#.. .#...",
    "-": "..... ..... ..... ##### ..... ..... .....",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    "/": "..... ....# ...#. ..#.. .#... #.... .....",
    ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    ";": "..... .##.. .##.. ..... .##.. .##.. ..#.. .#... .....",
    "<": "...#. ..#.. .#... #.... .#... ..#.. ...#.",
    "=": "..... ..... ##### ..... ##### ..... .....",
    ">": ".#... ..#.. ...#. ....# ...#. ..#.. .#...",
    "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
    "@": ".###. #...# ....# .##.# #.#.# #.#.# .###.",
    "[": ".###. .#... .#... .#... .#... .#... .###.",
    "\\": "..... #.... .#... ..#.. ...#. ....# .....",
    "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
    "^": "..#.. .#.#. #...# ..... ..... ..... .....",
    "_": "..... ..... ..... ..... ..... ..... #####",
    "`": ".#... ..#.. ..... ..... ..... ..... .....",
    "{": "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.",
    "|": "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "}": ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#...",
    "~": "..... ..... .#... #.#.# ...#. ..... .....",
}
UNKNOWN_GLYPH = "##### #...# #...# #...# #...# #...# #####"
GLYPH_WIDTH = 5
GLYPH_HEIGHT = 7     # cap line to baseline
GLYPH_ADVANCE = 6    # one blank column between letters
TEXT_SCALE = 2       # every font pixel is drawn as a 2 x 2 square


def glyph_ink(ch):
    """The (column, row) of every ink pixel of `ch`."""
    rows = FONT.get(ch, UNKNOWN_GLYPH).split()
    return [(x, y) for y, row in enumerate(rows) for x, bit in enumerate(row) if bit == "#"]


def text_width(text, scale=TEXT_SCALE):
    return max(0, len(text) * GLYPH_ADVANCE - 1) * scale


def text_height(scale=TEXT_SCALE):
    return GLYPH_HEIGHT * scale


# --------------------------------------------------------------------------------------
# Canvas: an RGB pixel buffer with rectangles, thick dashed lines, markers and text.
# Pixel (x, y) covers [x, x+1) x [y, y+1); y grows downwards.
# --------------------------------------------------------------------------------------

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GRID = (225, 225, 225)
GREY = (110, 110, 110)


class Canvas:
    def __init__(self, width, height, background=WHITE):
        self.width = width
        self.height = height
        self.rgb = bytearray(bytes(background) * (width * height))

    def png(self):
        return png_bytes(self.width, self.height, self.rgb)

    def pixel(self, x, y, colour):
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.rgb[i:i + 3] = bytes(colour)

    def fill_rect(self, x0, y0, x1, y1, colour):
        """Fill the pixels x0 <= x < x1, y0 <= y < y1 (clipped to the canvas)."""
        x0, x1 = max(0, int(x0)), min(self.width, int(x1))
        y0, y1 = max(0, int(y0)), min(self.height, int(y1))
        if x0 >= x1:
            return
        run = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            i = (y * self.width + x0) * 3
            self.rgb[i:i + len(run)] = run

    def frame_rect(self, x0, y0, x1, y1, colour, thickness=1):
        """The outline of the rectangle fill_rect(x0, y0, x1, y1) would fill."""
        t = thickness
        self.fill_rect(x0, y0, x1, y0 + t, colour)
        self.fill_rect(x0, y1 - t, x1, y1, colour)
        self.fill_rect(x0, y0, x0 + t, y1, colour)
        self.fill_rect(x1 - t, y0, x1, y1, colour)

    def fill_shape(self, cx, cy, radius, inside, colour):
        """Fill every pixel near (cx, cy) whose centre (dx, dy from the centre) is inside."""
        r = int(math.ceil(radius)) + 1
        for py in range(int(cy) - r, int(cy) + r + 1):
            for px in range(int(cx) - r, int(cx) + r + 1):
                if inside(px + 0.5 - cx, py + 0.5 - cy):
                    self.pixel(px, py, colour)

    def disc(self, cx, cy, radius, colour):
        r2 = radius * radius
        self.fill_shape(cx, cy, radius, lambda dx, dy: dx * dx + dy * dy <= r2, colour)

    def line(self, x0, y0, x1, y1, colour, width=1.0, dash=None, phase=0.0):
        """A line `width` pixels thick with round ends. `dash` is a list of on, off, on, ...
        lengths in pixels, starting `phase` pixels into the pattern; returns the phase at
        the end, so a polyline's pattern runs on across its corners."""
        length = math.hypot(x1 - x0, y1 - y0)
        steps = max(1, int(length * 2))
        radius = max(width / 2.0, 0.71)
        for i in range(steps + 1):
            t = i / steps
            if dash and not dash_is_on(phase + t * length, dash):
                continue
            self.disc(x0 + t * (x1 - x0), y0 + t * (y1 - y0), radius, colour)
        return phase + length

    def polyline(self, points, colour, width=1.0, dash=None):
        phase = 0.0
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            phase = self.line(x0, y0, x1, y1, colour, width, dash, phase)

    def text(self, x, y, text, colour=BLACK, scale=TEXT_SCALE, align="left", vertical=False):
        """Draw `text` with its cap line at y. align is left, centre or right of x.
        With vertical the text reads bottom to top, starting (align) at y, cap line at x."""
        w = text_width(text, scale)
        shift = {"left": 0, "centre": -w // 2, "right": -w}[align]
        for i, ch in enumerate(text):
            for gx, gy in glyph_ink(ch):
                u = (i * GLYPH_ADVANCE + gx) * scale + shift   # along the text
                v = gy * scale                                 # down from the cap line
                if vertical:
                    self.fill_rect(x + v, y - u - scale, x + v + scale, y - u, colour)
                else:
                    self.fill_rect(x + u, y + v, x + u + scale, y + v + scale, colour)


def dash_is_on(distance, pattern):
    """Whether `distance` pixels along a line falls on an "on" part of the dash pattern."""
    d = distance % sum(pattern)
    for i, part in enumerate(pattern):
        if d < part:
            return i % 2 == 0
        d -= part
    return True


# --------------------------------------------------------------------------------------
# Styles: colour by topology, line pattern by condition, marker by variant.
# --------------------------------------------------------------------------------------

TOPOLOGY_COLOURS = {
    "reference": (60, 60, 60),
    "ring": (31, 110, 200),
    "tree": (30, 150, 50),
    "random3": (235, 120, 0),
    "random4": (200, 30, 40),
}
OTHER_COLOURS = [(140, 80, 190), (140, 90, 60), (220, 80, 170), (20, 160, 170), (150, 150, 20)]
TOPOLOGY_ORDER = ("reference", "ring", "tree", "random3", "random4")

CONDITION_DASHES = {"clean": None, "loss1": [9, 6], "partition": [1, 5]}
OTHER_DASHES = [[12, 4, 2, 4], [18, 6], [4, 3], [12, 4, 2, 4, 2, 4]]
CONDITION_ORDER = ("clean", "loss1", "partition")

EAGER_MARKER = "circle"
OTHER_MARKERS = ["square", "triangle", "diamond", "cross"]
VARIANT_ORDER = ("eager", "plumtree")

LINE_WIDTH = 2.0
MARKER_RADIUS = 4.5


def ordered(names, preferred):
    """The preferred names present, in their order, then the rest, sorted."""
    names = set(names)
    return [n for n in preferred if n in names] + sorted(names - set(preferred))


class Styles:
    def __init__(self, topologies, variants, conditions):
        self.topologies = ordered(topologies, TOPOLOGY_ORDER)
        self.variants = ordered(variants, VARIANT_ORDER)
        self.conditions = ordered(conditions, CONDITION_ORDER)
        others = [t for t in self.topologies if t not in TOPOLOGY_COLOURS]
        self.colours = dict(TOPOLOGY_COLOURS)
        self.colours.update({t: OTHER_COLOURS[i % len(OTHER_COLOURS)] for i, t in enumerate(others)})
        others = [c for c in self.conditions if c not in CONDITION_DASHES]
        self.dashes = dict(CONDITION_DASHES)
        self.dashes.update({c: OTHER_DASHES[i % len(OTHER_DASHES)] for i, c in enumerate(others)})
        others = [v for v in self.variants if v != "eager"]
        self.markers = {"eager": EAGER_MARKER}
        self.markers.update({v: OTHER_MARKERS[i % len(OTHER_MARKERS)] for i, v in enumerate(others)})

    def key_order(self, key):
        topology, variant, condition = key
        return (self.topologies.index(topology), self.variants.index(variant),
                self.conditions.index(condition))


def draw_marker(canvas, x, y, shape, colour, r=MARKER_RADIUS):
    """A point marker centred on (x, y), with a white rim so crowded points stay apart."""
    if shape == "circle":
        canvas.disc(x, y, r + 1, WHITE)
        canvas.disc(x, y, r, colour)
    elif shape == "square":
        s = r - 0.5
        canvas.fill_shape(x, y, s + 1, lambda dx, dy: max(abs(dx), abs(dy)) <= s + 1, WHITE)
        canvas.fill_shape(x, y, s, lambda dx, dy: max(abs(dx), abs(dy)) <= s, colour)
        canvas.fill_shape(x, y, s, lambda dx, dy: max(abs(dx), abs(dy)) <= s - 2, WHITE)
    elif shape == "triangle":
        def inside(dx, dy, grow):
            return dy <= r * 0.8 + grow and 2 * abs(dx) <= (dy + r * 1.2) * 1.15 + grow * 2.3
        canvas.fill_shape(x, y, r + 2, lambda dx, dy: inside(dx, dy, 1), WHITE)
        canvas.fill_shape(x, y, r + 1, lambda dx, dy: inside(dx, dy, 0), colour)
    elif shape == "diamond":
        canvas.fill_shape(x, y, r + 2, lambda dx, dy: abs(dx) + abs(dy) <= r + 2, WHITE)
        canvas.fill_shape(x, y, r + 1, lambda dx, dy: abs(dx) + abs(dy) <= r + 1, colour)
    else:  # cross
        for sx in (-1, 1):
            canvas.line(x - r, y - sx * r, x + r, y + sx * r, colour, 2.0)


# --------------------------------------------------------------------------------------
# Axes: where a value goes, and which ticks to label.
# --------------------------------------------------------------------------------------

def format_number(v):
    """A short tick label: 0.05, 2.5, 400, 2000, 25k, 1.5M."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e9:
        return "%gG" % float("%.3g" % (v / 1e9))
    if a >= 1e6:
        return "%gM" % float("%.3g" % (v / 1e6))
    if a >= 1e4:
        return "%gk" % float("%.3g" % (v / 1e3))
    return "%g" % float("%.4g" % v)


class Axis:
    """Maps values in [lo, hi] (log10 of them when log) onto pixels [p0, p1].
    A log axis with a zero band keeps the first ZERO_BAND of its length for values
    <= 0, all drawn at p0 (with a tick "0"), below a break in the axis line."""

    ZERO_BAND = 0.08

    def __init__(self, lo, hi, log, ticks, zero_band=False):
        self.lo, self.hi, self.log, self.ticks, self.zero_band = lo, hi, log, ticks, zero_band
        self.p0 = self.p1 = 0

    def place(self, p0, p1):
        self.p0, self.p1 = p0, p1

    def start(self):
        """The pixel of lo (above the zero band, if any)."""
        return self.p0 + (self.ZERO_BAND * (self.p1 - self.p0) if self.zero_band else 0)

    def pixel(self, v):
        if not self.log:
            return self.p0 + (v - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0)
        if v <= 0:
            return self.p0 if self.zero_band else self.start()
        v = min(max(math.log10(v), self.lo), self.hi)
        return self.start() + (v - self.lo) / (self.hi - self.lo) * (self.p1 - self.start())


def servers_axis(values):
    """Log10 axis with a tick at every N present, a little room either side."""
    ns = sorted(set(values))
    lo, hi = math.log10(ns[0]), math.log10(ns[-1])
    pad = 0.07 * (hi - lo) if hi > lo else 0.5
    return Axis(lo - pad, hi + pad, True, ns)


def nice_step(span, target=6):
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def value_axis(values):
    """Linear from 0 (or below, for negative values), or log10 when the positive values
    span more than a factor of 50 (with a zero band if any value is <= 0)."""
    positive = [v for v in values if v > 0]
    if len(positive) >= 2 and max(positive) / min(positive) > 50:
        lo = math.floor(math.log10(min(positive)) + 1e-9)
        hi = math.ceil(math.log10(max(positive)) - 1e-9)
        hi = max(hi, lo + 1)
        every = max(1, int(math.ceil((hi - lo) / 8)))
        ticks = []
        for k in range(lo, hi + 1, every):
            ticks.append(10.0 ** k)
            if hi - lo <= 2 and k < hi:
                ticks += [2 * 10.0 ** k, 5 * 10.0 ** k]
        zero = any(v <= 0 for v in values)
        return Axis(lo, hi, True, ([0.0] if zero else []) + sorted(ticks), zero)
    top = max(values + [0.0])
    bottom = min(values + [0.0])
    if top == bottom:
        top = bottom + 1
    step = nice_step(top - bottom)
    lo = math.floor(bottom / step - 1e-9) * step
    hi = math.ceil(top / step - 1e-9) * step
    count = int(round((hi - lo) / step))
    ticks = [round(lo + i * step, 10) for i in range(count + 1)]
    return Axis(lo, hi, False, ticks)


# --------------------------------------------------------------------------------------
# Reading the figures.
# --------------------------------------------------------------------------------------

def parse_number(text, column, where):
    if column in INTEGER_COLUMNS:
        try:
            v = int(text)
        except ValueError:
            raise InputError("%s: field '%s' is %r, not an integer" % (where, column, text))
        if v < (1 if column == "servers" else 0):
            raise InputError("%s: field '%s' is %d, below %d"
                             % (where, column, v, 1 if column == "servers" else 0))
        return v
    try:
        v = float(text)
    except ValueError:
        raise InputError("%s: field '%s' is %r, not a number" % (where, column, text))
    if not math.isfinite(v):
        raise InputError("%s: field '%s' is %r, not a finite number" % (where, column, text))
    return v


def read_rows(lines, name):
    """The data rows of a figures TSV as dicts (numbers parsed); raises InputError."""
    header = None
    rows = []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        where = "%s line %d" % (name, number)
        if header is None:
            missing = [c for c in COLUMNS if c not in fields]
            if missing:
                raise InputError("%s: the header lacks %s (want tab-separated: %s)"
                                 % (where, ", ".join(missing), " ".join(COLUMNS)))
            header = fields
            continue
        if len(fields) != len(header):
            raise InputError("%s: %d tab-separated fields, the header has %d"
                             % (where, len(fields), len(header)))
        row = {"line": number}
        for column, text in zip(header, fields):
            if column not in COLUMNS:
                continue
            if not text:
                raise InputError("%s: field '%s' is empty" % (where, column))
            numeric = column in INTEGER_COLUMNS + FLOAT_COLUMNS
            row[column] = parse_number(text, column, where) if numeric else text
        rows.append(row)
    if header is None:
        raise InputError("%s: no header line and no rows" % name)
    return rows


def read_figures(path):
    if path == "-":
        return read_rows(sys.stdin, "<stdin>")
    try:
        with open(path, encoding="utf-8") as f:
            return read_rows(f, path)
    except OSError as e:
        raise InputError("cannot read %s: %s" % (path, e.strerror or e))
    except UnicodeDecodeError as e:
        raise InputError("%s is not UTF-8 text: %s" % (path, e))


def collect_series(rows, column):
    """{(topology, variant, condition): [(N, value), ...] by N}; repeated N averaged."""
    sums = {}
    for r in rows:
        key = (r["topology"], r["variant"], r["condition"])
        total, count = sums.get((key, r["servers"]), (0.0, 0))
        sums[(key, r["servers"])] = (total + r[column], count + 1)
    series = {}
    for (key, n), (total, count) in sorted(sums.items()):
        series.setdefault(key, []).append((n, total / count))
    return series


# --------------------------------------------------------------------------------------
# Chart layout: title, plot box with grid and ticks, axis labels, legend table, note.
# --------------------------------------------------------------------------------------

WIDTH = 900
PLOT_LEFT = 112          # room for the vertical label and the y tick labels
PLOT_RIGHT_MARGIN = 30
PLOT_TOP = 58
PLOT_HEIGHT = 330
ROW = 20                 # legend line height
SAMPLE = 44              # length of a legend line sample


def legend_layout(styles, series):
    """Columns (variant, condition) and rows (topology) of the legend, and its size."""
    keys = set(series)
    columns = [(v, c) for v in styles.variants for c in styles.conditions
               if any((t, v, c) in keys for t in styles.topologies)]
    rows = [t for t in styles.topologies if any((t, v, c) in keys for v, c in columns)]
    label_w = max(text_width(t) for t in rows + ["topology"]) + 16
    per_variant = {}
    for v, c in columns:
        per_variant[v] = per_variant.get(v, 0) + 1
    col_w = max([SAMPLE + 16] + [text_width(c) + 12 for _, c in columns]
                + [(text_width(v) + 16 + n - 1) // n for v, n in per_variant.items()])
    width = 12 + label_w + col_w * len(columns) + 12
    height = 8 + ROW * (2 + len(rows)) + 4
    return columns, rows, label_w, col_w, width, height


def draw_legend(canvas, styles, series, layout, x0, y0):
    columns, rows, label_w, col_w, width, height = layout
    canvas.fill_rect(x0, y0, x0 + width, y0 + height, WHITE)
    canvas.frame_rect(x0, y0, x0 + width, y0 + height, GREY)
    cx = x0 + 12 + label_w
    y = y0 + 8
    # Header: each variant over its conditions, underlined across them.
    start = 0
    while start < len(columns):
        variant = columns[start][0]
        end = start
        while end < len(columns) and columns[end][0] == variant:
            end += 1
        left, right = cx + start * col_w, cx + end * col_w
        canvas.text((left + right) // 2, y + 2, variant, BLACK, align="centre")
        canvas.fill_rect(left + 6, y + ROW - 2, right - 6, y + ROW - 1, GREY)
        start = end
    canvas.text(x0 + 12, y + ROW + 2, "topology", GREY)
    for i, (_, condition) in enumerate(columns):
        canvas.text(cx + i * col_w + col_w // 2, y + ROW + 2, condition, BLACK, align="centre")
    for j, topology in enumerate(rows):
        ry = y + ROW * (2 + j)
        colour = styles.colours[topology]
        canvas.text(x0 + 12, ry + 3, topology, colour)
        for i, (variant, condition) in enumerate(columns):
            if (topology, variant, condition) not in series:
                continue
            mid_x, mid_y = cx + i * col_w + col_w // 2, ry + ROW // 2 + 0.5
            canvas.line(mid_x - SAMPLE / 2, mid_y, mid_x + SAMPLE / 2, mid_y, colour,
                        LINE_WIDTH, styles.dashes[condition])
            draw_marker(canvas, mid_x, mid_y, styles.markers[variant], colour)


def draw_chart(series, styles, title, ylabel, subtitle=None):
    """The whole chart as a Canvas."""
    layout = legend_layout(styles, series)
    width = max(WIDTH, layout[4] + 40)
    values = [v for points in series.values() for _, v in points]
    xaxis = servers_axis([n for points in series.values() for n, _ in points])
    yaxis = value_axis(values)
    note = "Log axis: values of 0 or less are drawn on the 0 line, below the break." \
        if yaxis.zero_band else None

    left, right = PLOT_LEFT, width - PLOT_RIGHT_MARGIN
    top = PLOT_TOP if subtitle is None else PLOT_TOP + 20
    bottom = top + PLOT_HEIGHT
    legend_top = bottom + 66
    height = legend_top + layout[5] + (40 if note else 16)
    xaxis.place(left, right)
    yaxis.place(bottom, top)
    canvas = Canvas(width, height)

    canvas.text(width // 2, 16, title, BLACK, align="centre")
    if subtitle:
        canvas.text(width // 2, 40, subtitle, GREY, align="centre")

    # Grid and ticks.
    for n in xaxis.ticks:
        x = int(round(xaxis.pixel(n)))
        canvas.fill_rect(x, top, x + 1, bottom, GRID)
    last_label_right = -1
    for n in xaxis.ticks:
        x = int(round(xaxis.pixel(n)))
        canvas.fill_rect(x, bottom, x + 1, bottom + 6, BLACK)
        label = str(n)
        w = text_width(label)
        if x - w // 2 > last_label_right + 6:   # skip a label that would overlap the last
            canvas.text(x, bottom + 10, label, BLACK, align="centre")
            last_label_right = x + w // 2
    for v in yaxis.ticks:
        y = int(round(yaxis.pixel(v)))
        canvas.fill_rect(left, y, right, y + 1, GRID)
        canvas.fill_rect(left - 6, y, left, y + 1, BLACK)
        canvas.text(left - 10, y - text_height() // 2, format_number(v), BLACK, align="right")
    canvas.frame_rect(left, top, right + 1, bottom + 1, BLACK)
    if yaxis.zero_band:   # a break in both vertical edges between 0 and the lowest decade
        y = int(round((yaxis.p0 + yaxis.start()) / 2))
        for x in (left, right):
            canvas.fill_rect(x - 4, y - 2, x + 5, y + 3, WHITE)
            canvas.line(x - 4, y + 1, x + 4, y - 3, BLACK, 1.2)
            canvas.line(x - 4, y + 4, x + 4, y, BLACK, 1.2)

    # Axis labels.
    canvas.text((left + right) // 2, bottom + 36, "servers N (log scale)", BLACK, align="centre")
    label = ylabel + (" (log scale)" if yaxis.log else " (linear)")
    scale = TEXT_SCALE if text_width(label) <= PLOT_HEIGHT else 1
    canvas.text(14, (top + bottom) // 2, label, BLACK, scale=scale, align="centre", vertical=True)

    # Lines first, then every marker on top of them.
    keys = sorted(series, key=styles.key_order)
    placed = {k: [(xaxis.pixel(n), yaxis.pixel(v)) for n, v in series[k]] for k in keys}
    for key in keys:
        topology, variant, condition = key
        canvas.polyline(placed[key], styles.colours[topology], LINE_WIDTH, styles.dashes[condition])
    for key in keys:
        topology, variant, condition = key
        for x, y in placed[key]:
            draw_marker(canvas, x, y, styles.markers[variant], styles.colours[topology])

    legend_left = max(10, min((left + right) // 2, width - 10 - layout[4] // 2) - layout[4] // 2)
    draw_legend(canvas, styles, series, layout, legend_left, legend_top)
    if note:
        canvas.text(legend_left, legend_top + layout[5] + 14, note, GREY)
    return canvas


# --------------------------------------------------------------------------------------
# Main.
# --------------------------------------------------------------------------------------

def file_safe(name):
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)


def main(argv):
    parser = argparse.ArgumentParser(
        prog="plot-scaling.py",
        description="Draw the PNG charts of Docs/scaling.md from `herd simulate study --tsv`.")
    parser.add_argument("figures", metavar="FIGURES.tsv", help="the study's TSV output, or - for stdin")
    parser.add_argument("outdir", metavar="OUTDIR", help="directory for the PNG files (created if missing)")
    parser.add_argument("--condition", metavar="NAME", help="only this condition; file names get -NAME")
    args = parser.parse_args(argv)

    try:
        rows = read_figures(args.figures)
        name = "<stdin>" if args.figures == "-" else args.figures
        if not rows:
            raise InputError("%s: no data rows under the header" % name)
        if args.condition is not None:
            present = ordered({r["condition"] for r in rows}, CONDITION_ORDER)
            rows = [r for r in rows if r["condition"] == args.condition]
            if not rows:
                raise InputError("%s: no rows with condition %r (present: %s)"
                                 % (name, args.condition, ", ".join(present)))
    except InputError as e:
        print("%s: %s" % (PROGRAM, e), file=sys.stderr)
        return 1

    repeats = len(rows) - len({(r["topology"], r["variant"], r["condition"], r["servers"]) for r in rows})
    if repeats:
        print("%s: note: %d row(s) repeat a (topology, variant, condition, servers); "
              "their values are averaged" % (PROGRAM, repeats), file=sys.stderr)

    styles = Styles({r["topology"] for r in rows}, {r["variant"] for r in rows},
                    {r["condition"] for r in rows})
    suffix = "" if args.condition is None else "-" + file_safe(args.condition)
    subtitle = None if args.condition is None else "condition: " + args.condition
    try:
        os.makedirs(args.outdir, exist_ok=True)
        for column, stem, title, ylabel in METRICS:
            canvas = draw_chart(collect_series(rows, column), styles, title, ylabel, subtitle)
            path = os.path.join(args.outdir, stem + suffix + ".png")
            with open(path, "wb") as f:
                f.write(canvas.png())
            print(path)
    except OSError as e:
        print("%s: cannot write to %s: %s" % (PROGRAM, args.outdir, e.strerror or e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
