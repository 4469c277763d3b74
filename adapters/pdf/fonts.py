"""The fonts every invoice PDF uses, shipped with the code (adapters/pdf/fonts/README.md):
Noto Sans for Latin, Greek and Cyrillic, Noto Sans Arabic, and a subset of Noto Sans CJK SC
(Chinese, Japanese kana and kanji, Korean Hangul) unless settings name a complete CJK font.

Text is shaped by HarfBuzz (uharfbuzz), so Arabic letters join and run right to left; a
character the main font lacks is drawn from the first fallback font that has it. A fallback
is registered only when the document's text needs it: parsing the CJK font costs about
0.2 s and embedding it more, which a Latin-only invoice need not pay.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"
FAMILY = "NotoSans"
CJK_SUBSET = FONTS / "NotoSansCJKsc-Regular-subset.otf"
_MAIN = FONTS / "NotoSans-Regular.ttf"
_ARABIC = ("NotoSansArabic", FONTS / "NotoSansArabic-Regular.ttf")
_ARABIC_BOLD = FONTS / "NotoSansArabic-Bold.ttf"


def use_fonts(pdf: FPDF, text: str, cjk_font: Path | None = None) -> list[str]:
    """Registers the fonts `text` needs on `pdf`, shaping on, `FAMILY` as the one to set;
    returns the fallback families registered."""
    pdf.add_font(FAMILY, "", _MAIN)
    pdf.add_font(FAMILY, "B", FONTS / "NotoSans-Bold.ttf")
    missing = {ord(c) for c in text} - covers(_MAIN)
    fallbacks = []
    if missing & covers(_ARABIC[1]):
        pdf.add_font(_ARABIC[0], "", _ARABIC[1])
        pdf.add_font(_ARABIC[0], "B", _ARABIC_BOLD)
        fallbacks.append(_ARABIC[0])
    cjk = cjk_font or CJK_SUBSET
    if missing & covers(cjk):
        pdf.add_font("NotoSansCJK", "", cjk)
        fallbacks.append("NotoSansCJK")
    pdf.set_fallback_fonts(fallbacks, exact_match=False)  # bold CJK: the regular face
    pdf.set_text_shaping(True)
    return fallbacks


@cache
def covers(path: Path) -> frozenset[int]:
    """The characters a font (the first of a collection) has glyphs for."""
    return frozenset(TTFont(path, fontNumber=0, lazy=True).getBestCmap())
