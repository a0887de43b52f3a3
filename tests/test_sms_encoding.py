"""GSM-7 vs UCS-2 and segment counts, in Python and in the browser counter (same cases)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel.sms.encoding import LIMITS, _count_segments, _weights, analyze
from tests.services import require

COUNTER_JS = Path(__file__).parent.parent / "panel" / "static" / "sms_counter.js"

# (text, encoding, length, segments, non_gsm)
CASES = [
    ("", "GSM-7", 0, 0, []),
    ("Hola", "GSM-7", 4, 1, []),
    ("a" * 160, "GSM-7", 160, 1, []),
    ("a" * 161, "GSM-7", 161, 2, []),
    ("a" * 306, "GSM-7", 306, 2, []),
    ("a" * 307, "GSM-7", 307, 3, []),
    ("€" * 80, "GSM-7", 160, 1, []),
    ("a" * 159 + "€", "GSM-7", 161, 2, []),
    # an extension character is never split: 152 + [€] does not fit in 153, so it opens segment 2
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3, []),
    ("^{}\\[~]|", "GSM-7", 16, 1, []),
    ("¿Cómo está?", "UCS-2", 11, 1, ["ó", "á"]),
    ("Señor Müller, ¡qué año! àèùìò ÇØÅÄÖÑÜ§", "GSM-7", 38, 1, []),
    ("Hola María", "UCS-2", 10, 1, ["í"]),
    ("á" * 70, "UCS-2", 70, 1, ["á"]),
    ("á" * 71, "UCS-2", 71, 2, ["á"]),
    ("á" * 134, "UCS-2", 134, 2, ["á"]),
    ("á" * 135, "UCS-2", 135, 3, ["á"]),
    ("Hola 😀", "UCS-2", 7, 1, ["😀"]),
    # a surrogate pair is never split either: 66 + [😀] does not fit in 67
    ("á" * 66 + "😀" + "á" * 66, "UCS-2", 134, 3, ["á", "😀"]),
    ("Total: 10€ {ok}", "GSM-7", 18, 1, []),
    ("10€ y café con azúcar", "UCS-2", 21, 1, ["ú"]),
]


@pytest.mark.parametrize(("text", "encoding", "length", "segments", "non_gsm"), CASES)
def test_analyze(text, encoding, length, segments, non_gsm):
    info = analyze(text)
    assert (info.encoding, info.length, info.segments, info.non_gsm) == (encoding, length, segments, non_gsm)


@pytest.mark.parametrize("char", list("áíóúÁÍÓÚ"))
def test_spanish_acute_vowels_except_e_force_ucs2(char):
    assert analyze(f"Hola {char}").encoding == "UCS-2"


@pytest.mark.parametrize("char", list("éñü¿¡àèùìòÇØÅÄÖÑÜ§É"))
def test_gsm_basic_set_includes_these(char):
    assert analyze(char).encoding == "GSM-7"


def test_browser_counter_agrees_with_python():
    """sms_counter.js, run by node, gives exactly the Python results on every case."""
    node = shutil.which("node")
    require("node", node is not None)
    texts = [case[0] for case in CASES]
    script = (
        f"require({json.dumps(str(COUNTER_JS))});"
        "const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(texts.map((t) => globalThis.smsAnalyze(t))));"
    )
    done = subprocess.run(
        [node, "-e", script], input=json.dumps(texts), capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for text, result in zip(texts, results, strict=True):
        info = analyze(text)
        expected = {
            "encoding": info.encoding,
            "length": info.length,
            "segments": info.segments,
            "nonGsm": info.non_gsm,
        }
        assert result == expected, text


@given(st.text(alphabet=st.sampled_from("aé€^{😀áñ\n ") | st.characters(), max_size=400))
def test_the_shortcut_for_one_unit_characters_agrees_with_the_character_walk(text):
    """analyze() skips the per-character walk when every character takes one unit; the walk is
    the reference, so both must always agree."""
    info = analyze(text)
    weights = _weights(text, info.encoding)
    assert (info.length, info.segments) == (sum(weights), _count_segments(weights, *LIMITS[info.encoding]))
