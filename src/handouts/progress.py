"""A client's progress from harvested handouts: practice days per ritual per week."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_write
from .harvest import HISTORY, ISSUED, load_history, read_jsonl


@dataclass(frozen=True)
class Practice:
    """Days one partner ticked for one ritual in the handout of one session."""

    week: str  # the session date the handout was made for
    ritual: str
    title: str
    partner: int  # 1-based place in the profile's partners
    days: int


def practice_rows(issued: list[dict], history: list[dict]) -> list[Practice]:
    """Return practice days per week, ritual and partner (days ticked on any copy)."""
    titles = {(r["handout"], w["id"]): w["title"] for r in issued for w in r["rituals"]}
    weeks = {r["handout"]: r["session_date"] for r in issued}
    days: dict[tuple[str, str, int], set[int]] = {}
    for record in history:
        for answer in record["answers"]:
            key = (record["handout"], answer["module"], answer["partner"])
            days.setdefault(key, set()).update(answer["days"])
    rows = [Practice(weeks.get(h, "?"), ritual, titles.get((h, ritual), ritual), partner,
                     len(ticked)) for (h, ritual, partner), ticked in days.items()]
    return sorted(rows, key=lambda r: (r.week, r.ritual, r.partner))


def reflections(issued: list[dict], history: list[dict]) -> list[tuple[str, str, int, str, str]]:
    """Return (week, ritual title, partner, prompt, answer) for every written answer."""
    prompts = {(r["handout"], w["id"]): (w["title"], w["prompts"])
               for r in issued for w in r["rituals"]}
    out = []
    for record in history:
        for answer in record["answers"]:
            title, texts = prompts.get((record["handout"], answer["module"]),
                                       (answer["module"], []))
            for number, text in sorted(answer["prompts"].items(), key=lambda x: int(x[0])):
                prompt = texts[int(number) - 1] if int(number) <= len(texts) else number
                out.append((record["session_date"], title, answer["partner"], prompt, text))
    return sorted(set(out))


def since_last_time(folder: Path, before: str) -> list[Practice]:
    """Return the practice rows of the latest harvested week before the date *before*."""
    issued = read_jsonl(folder / ISSUED)
    rows = [r for r in practice_rows(issued, read_jsonl(folder / HISTORY)) if r.week < before]
    if not rows:
        return []
    latest = max(r.week for r in rows)
    return [r for r in rows if r.week == latest]


def save_chart(rows: list[Practice], path: str | Path, names: list[str] | None = None) -> Path:
    """Draw practice days per ritual per week (one bar per partner) to PNG, SVG or PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    rituals = sorted({(r.ritual, r.title) for r in rows})
    weeks = sorted({r.week for r in rows})
    partners = sorted({r.partner for r in rows})
    fig, axes = plt.subplots(len(rituals) or 1, 1, figsize=(7, 1.9 * max(1, len(rituals))),
                             squeeze=False, sharex=True)
    width = 0.8 / max(1, len(partners))
    for ax, (ritual, title) in zip(axes[:, 0], rituals, strict=False):
        for n, partner in enumerate(partners):
            counts = [next((r.days for r in rows if (r.ritual, r.partner, r.week) ==
                            (ritual, partner, w)), 0) for w in weeks]
            label = names[partner - 1] if names and partner <= len(names) else f"partner {partner}"
            ax.bar([i + n * width for i in range(len(weeks))], counts, width, label=label)
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_ylim(0, 7)
        ax.set_yticks(range(0, 8, 7))
        ax.set_ylabel("days")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xticks([i + width * (len(partners) - 1) / 2 for i in range(len(weeks))],
                           [f"week of {w}" for w in weeks])
    axes[0, 0].legend(loc="upper right", frameon=False, fontsize=8, ncols=len(partners))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)
    return atomic_write(path, buffer.getvalue())


def client_progress(output_dir: str | Path, client_id: str):
    """Return (issued, practice rows, reflections) for one client."""
    issued, history = load_history(output_dir, client_id)
    return issued, practice_rows(issued, history), reflections(issued, history)
