import pytest

from myotwitch.anatomy import MUSCLES, PRESETS, placement, supply_text


@pytest.mark.parametrize(("text", "nerve", "roots"), [
    # The examples, as the references give them.
    ("right APB", "median", "C8-T1"),
    ("right FDI", "ulnar", "C8-T1"),
    ("left biceps", "musculocutaneous", "C5-C6"),
    ("left tibialis anterior", "deep peroneal (fibular)", "L4-L5"),
    ("R medial gastrocnemius", "tibial", "S1-S2"),
])
def test_a_named_muscle_gives_its_nerve_and_roots(text, nerve, roots):
    p = placement(text)
    assert p.muscle is not None
    assert (p.muscle.nerve, p.muscle.roots) == (nerve, roots)
    assert p.side in ("left", "right")


def test_side_and_aliases_are_read_and_an_unknown_muscle_is_said_so():
    p = placement("  Left   first dorsal interosseous ")
    assert (p.side, p.muscle.key) == ("left", "fdi")
    assert placement("calf").muscle.key == "medial gastrocnemius"
    assert placement("TA").muscle.key == "tibialis anterior"
    unknown = placement("left pinky toe")
    assert unknown.muscle is None and unknown.side == "left"
    assert "not in myotwitch's muscle table" in supply_text(unknown)
    assert supply_text(placement("right APB")) == "right abductor pollicis brevis: median nerve, roots C8-T1"


def test_every_preset_names_muscles_of_the_table_and_separates_the_suspect_from_a_comparison():
    for preset in PRESETS.values():
        keys = [k for k, _ in preset.channels]
        assert all(k in MUSCLES for k in keys), preset.key
        assert 2 <= len(keys) <= 3 and len(set(keys)) == len(keys)
    # Carpal tunnel: the comparison at the same roots is supplied by another nerve.
    apb, fdi = MUSCLES["apb"], MUSCLES["fdi"]
    assert apb.roots == fdi.roots and apb.nerve != fdi.nerve
    # Lumbar: the channels reach different roots.
    assert len({MUSCLES[k].roots for k, _ in PRESETS["lumbar"].channels}) == 3


def test_root_ranges_are_written_one_way():
    import re
    for m in MUSCLES.values():
        assert re.fullmatch(r"[CLTS]\d(-[CLTS]\d)?", m.roots), m
