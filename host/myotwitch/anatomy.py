"""Which nerve and spinal roots supply a muscle: information to bring to a clinician, not a diagnosis.

A compressed nerve makes the muscles *it supplies* twitch, so the muscle a channel sits on says which
nerves and roots could be involved. This table gives, for the muscles a surface electrode reaches, the
peripheral nerve and the main spinal roots, as the standard clinical references list them:

- Medical Research Council, *Aids to the Examination of the Peripheral Nervous System* (Memorandum
  No. 45; 5th edition, Guarantors of Brain, Saunders Elsevier, 2010): nerve and root of each muscle.
- D. C. Preston and B. E. Shapiro, *Electromyography and Neuromuscular Disorders* (3rd edition, Elsevier,
  2013), the muscle tables of its chapters on needle EMG of the upper and lower limb.

The references differ by one segment at the edges of some root ranges (triceps C6-C8 or C7-C8, say);
the main roots are given. Many muscles share roots, so twitching in one muscle points at a nerve or a
root only together with the others and with a clinician's examination.

`PRESETS` names, for the four situations people bring (carpal tunnel, cubital tunnel, neck, low back),
where to put which channel: a muscle supplied by the suspected nerve or root, and a comparison muscle
that is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Muscle:
    key: str  # short name used on the command line: "apb", "fdi", "tibialis anterior"
    name: str  # full name
    nerve: str
    roots: str  # main spinal roots, e.g. "C8-T1"
    region: str  # "hand", "forearm", "arm", "shoulder", "thigh", "leg", "foot"


_TABLE = (
    # Hand
    Muscle("apb", "abductor pollicis brevis", "median", "C8-T1", "hand"),
    Muscle("opponens pollicis", "opponens pollicis", "median", "C8-T1", "hand"),
    Muscle("fdi", "first dorsal interosseous", "ulnar", "C8-T1", "hand"),
    Muscle("adm", "abductor digiti minimi (hand)", "ulnar", "C8-T1", "hand"),
    # Forearm
    Muscle("fcr", "flexor carpi radialis", "median", "C6-C7", "forearm"),
    Muscle("pronator teres", "pronator teres", "median", "C6-C7", "forearm"),
    Muscle("fpl", "flexor pollicis longus", "anterior interosseous (median)", "C7-C8", "forearm"),
    Muscle("fcu", "flexor carpi ulnaris", "ulnar", "C7-T1", "forearm"),
    Muscle("brachioradialis", "brachioradialis", "radial", "C5-C6", "forearm"),
    Muscle("ecr", "extensor carpi radialis", "radial", "C6-C7", "forearm"),
    Muscle("edc", "extensor digitorum communis", "posterior interosseous (radial)", "C7-C8", "forearm"),
    Muscle("extensor indicis", "extensor indicis", "posterior interosseous (radial)", "C7-C8", "forearm"),
    # Arm and shoulder
    Muscle("biceps", "biceps brachii", "musculocutaneous", "C5-C6", "arm"),
    Muscle("triceps", "triceps brachii", "radial", "C6-C8", "arm"),
    Muscle("deltoid", "deltoid", "axillary", "C5-C6", "shoulder"),
    Muscle("supraspinatus", "supraspinatus", "suprascapular", "C5-C6", "shoulder"),
    Muscle("infraspinatus", "infraspinatus", "suprascapular", "C5-C6", "shoulder"),
    # Thigh and hip
    Muscle("vastus lateralis", "vastus lateralis", "femoral", "L2-L4", "thigh"),
    Muscle("vastus medialis", "vastus medialis", "femoral", "L2-L4", "thigh"),
    Muscle("adductor longus", "adductor longus", "obturator", "L2-L4", "thigh"),
    Muscle("biceps femoris", "biceps femoris (short head)", "peroneal division of the sciatic", "L5-S1", "thigh"),
    Muscle("gluteus medius", "gluteus medius", "superior gluteal", "L4-S1", "hip"),
    # Leg and foot
    Muscle("tibialis anterior", "tibialis anterior", "deep peroneal (fibular)", "L4-L5", "leg"),
    Muscle("ehl", "extensor hallucis longus", "deep peroneal (fibular)", "L5", "leg"),
    Muscle("peroneus longus", "peroneus (fibularis) longus", "superficial peroneal (fibular)", "L5-S1", "leg"),
    Muscle("tibialis posterior", "tibialis posterior", "tibial", "L5-S1", "leg"),
    Muscle("medial gastrocnemius", "medial gastrocnemius", "tibial", "S1-S2", "leg"),
    Muscle("lateral gastrocnemius", "lateral gastrocnemius", "tibial", "S1-S2", "leg"),
    Muscle("soleus", "soleus", "tibial", "S1-S2", "leg"),
    Muscle("edb", "extensor digitorum brevis", "deep peroneal (fibular)", "L5-S1", "foot"),
    Muscle("abductor hallucis", "abductor hallucis", "medial plantar (tibial)", "S1-S2", "foot"),
)

MUSCLES: dict[str, Muscle] = {m.key: m for m in _TABLE}

# Other names people type for the same muscle.
_ALIASES = {
    "abductor pollicis brevis": "apb", "first dorsal interosseous": "fdi", "first dorsal interosseus": "fdi",
    "abductor digiti minimi": "adm", "hypothenar": "adm", "thenar": "apb",
    "flexor carpi radialis": "fcr", "flexor pollicis longus": "fpl", "flexor carpi ulnaris": "fcu",
    "extensor carpi radialis": "ecr", "extensor digitorum": "edc", "extensor digitorum communis": "edc",
    "biceps brachii": "biceps", "triceps brachii": "triceps",
    "ta": "tibialis anterior", "tib ant": "tibialis anterior",
    "mg": "medial gastrocnemius", "gastrocnemius": "medial gastrocnemius", "calf": "medial gastrocnemius",
    "lg": "lateral gastrocnemius", "extensor hallucis longus": "ehl", "extensor digitorum brevis": "edb",
    "fibularis longus": "peroneus longus", "vl": "vastus lateralis", "vm": "vastus medialis",
    "quadriceps": "vastus lateralis",
}

SIDES = ("left", "right")


@dataclass(frozen=True)
class Placement:
    """Where a channel's electrodes are, as the user typed it, and what the table knows of that muscle."""

    text: str  # as given, e.g. "right APB"
    side: str | None  # "left", "right" or None when not said
    muscle: Muscle | None  # None when the name is not in the table


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", text.lower())).strip()


def placement(text: str) -> Placement:
    """Read "right APB", "L tibialis anterior" or "calf" into a side and a muscle of the table."""
    words = _normalise(text).split(" ")
    side = None
    if words and words[0] in (*SIDES, "l", "r"):
        side = {"l": "left", "r": "right"}.get(words[0], words[0])
        words = words[1:]
    name = " ".join(words)
    key = _ALIASES.get(name, name)
    return Placement(text=text, side=side, muscle=MUSCLES.get(key))


def supply_text(p: Placement) -> str:
    """One line for a report: which nerve and roots supply the muscle (information, not a diagnosis)."""
    if p.muscle is None:
        return f"{p.text}: not in myotwitch's muscle table (see `myotwitch muscles`)"
    side = f"{p.side} " if p.side else ""
    return f"{side}{p.muscle.name}: {p.muscle.nerve} nerve, roots {p.muscle.roots}"


@dataclass(frozen=True)
class Preset:
    key: str
    situation: str
    channels: tuple[tuple[str, str], ...]  # (muscle key, why there)


PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("carpal-tunnel", "median nerve at the wrist (carpal tunnel)", (
        ("apb", "median below the wrist: the muscle carpal tunnel compression reaches"),
        ("fdi", "ulnar, same roots C8-T1: twitching here too points away from the median nerve alone"),
        ("fcr", "median above the wrist: spared by compression at the wrist"),
    )),
    Preset("cubital-tunnel", "ulnar nerve at the elbow (cubital tunnel)", (
        ("fdi", "ulnar in the hand"),
        ("adm", "ulnar in the hand (hypothenar)"),
        ("apb", "median, same roots C8-T1: the comparison"),
    )),
    Preset("cervical", "neck (cervical roots C5-C8)", (
        ("biceps", "C5-C6"),
        ("triceps", "C6-C8, mainly C7"),
        ("fdi", "C8-T1"),
    )),
    Preset("lumbar", "low back (lumbosacral roots L4-S1, sciatica)", (
        ("tibialis anterior", "L4-L5"),
        ("medial gastrocnemius", "S1-S2"),
        ("vastus lateralis", "L2-L4: above the usual level, the comparison"),
    )),
)}
