"""panel/text.py's fold, character by character through its table, is the whole text's NFKD
without combining marks (the definition the search and the stored ``busqueda`` share)."""

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from panel import text

# Accents, compatibility forms (ﬁ, ², ´, full-width), Hangul, stacked and reordered marks.
TRICKY = "aeñÁ\u0301\u0303\u0327\u0345\u0323ﬁ²´ｂ가힣ᾅ\u1e9b\u0f73\u0f75\U0001d400 \t\n"


def whole_text(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", bare).strip().lower()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=30))
def test_fold_is_the_whole_texts_decomposition(value):
    assert text.fold(value) == whole_text(value)


def test_fold_of_what_people_write():
    assert text.fold("  José  MARTÍNEZ ") == "jose martinez"
    assert text.fold("Ñandú ﬁno ²") == "nandu fino 2"
    assert text.fold("a\u0301\u0323b") == "ab"  # marks in either order


def test_the_table_stays_bounded(monkeypatch):
    monkeypatch.setattr(text, "_BARE", text._Bare())
    monkeypatch.setattr(text, "MAX_BARE", 10)
    many = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 50))
    assert text.fold(many) == whole_text(many)
    assert len(text._BARE) == 10
