"""Makes adapters/pdf/fonts/NotoSansCJKsc-Regular-subset.otf from Noto Sans CJK (Debian's
fonts-noto-cjk): printable ASCII, CJK punctuation, kana, full-width forms, the ideographs of
GB 2312 and JIS X 0208 and the Hangul syllables of KS X 1001.

    uv run python scripts/subset_cjk_font.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

OUT = Path(__file__).parent.parent / "adapters/pdf/fonts/NotoSansCJKsc-Regular-subset.otf"
SC = 2  # Noto Sans CJK SC in Debian's collection (JP, KR, SC, TC, HK, then Mono)


def _in(codec: str, codepoint: int) -> bool:
    try:
        return len(chr(codepoint).encode(codec)) == 2
    except UnicodeEncodeError:
        return False


def codepoints() -> set[int]:
    wanted = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3100)) | set(range(0xFF00, 0xFFF0))
    ideographs = range(0x4E00, 0xA000)
    wanted |= {cp for cp in ideographs if _in("gb2312", cp) or _in("shift_jis", cp)}
    wanted |= {cp for cp in range(0xAC00, 0xD7A4) if _in("euc_kr", cp)}
    return wanted


def main(collection: str) -> None:
    font = TTFont(collection, fontNumber=SC)
    options = subset.Options()
    options.name_IDs, options.name_languages = ["*"], ["*"]
    options.notdef_outline, options.hinting = True, False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints())
    subsetter.subset(font)
    font.save(OUT)


if __name__ == "__main__":
    main(sys.argv[1])
