"""A patient's last weeks of dosing as a chart and as a table, for the doctor: drawn on
the server with matplotlib like the evaluation's charts (Agg, SVG, no browser script, no
CDN), and shown with a table that says the same in words.

Pure: both take a ``history.DoseHistory`` and read nothing else. Every mark that tells a
session's fate has its own shape as well as its colour (a cross for a missed session, a
triangle for a withheld one), so the chart reads in black and white and for someone who
does not tell the colours apart; the legend names each shape.
"""

from __future__ import annotations

import base64
import io
import math
import re
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from django.template.defaultfilters import floatformat
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from hab.dosing.history import DoseHistory, Session
from hab.dosing.rules import TAKEN

STYLE = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text: selectable, translatable, small
    "svg.hashsalt": "hab-dose-history",  # the same history gives the same bytes
}
BLUE, LIGHT, ORANGE, RED, GREY, DARK = (
    "#1f5fa8",
    "#9dbbe0",
    "#c15a00",
    "#b3261e",
    "#6b6b6b",
    "#222222",
)
GROUP_NAMES = {
    "dam": gettext_lazy("Diacetylmorphine (injections and tablets)"),
    "hydromorphone": gettext_lazy("Hydromorphone"),
    "methadone": gettext_lazy("Methadone"),
    "morphine": gettext_lazy("Slow-release morphine"),
}
STATUS_NAMES = {
    "given": gettext_lazy("Given"),
    "partial": gettext_lazy("Partly given"),
    "withheld": gettext_lazy("Withheld"),
    "refused": gettext_lazy("Refused"),
    "missed": gettext_lazy("Missed"),
    "open": gettext_lazy("Not recorded"),
    "none": gettext_lazy("Not prescribed"),
}
OUTCOME_NAMES = {
    "no_concern": gettext_lazy("No concern"),
    "sedated": gettext_lazy("Sedated"),
    "overdose": gettext_lazy("Overdose"),
}
# The marks of a session that was not given, and of an observation that found something:
# (shape, colour). The ids name them in the SVG, so a test (or a curious reader of the
# file) can count them.
NOT_GIVEN = {
    "missed": ("x", DARK),
    "withheld": ("^", ORANGE),
    "refused": ("D", GREY),
}
OBSERVED = {
    "sedated": ("s", ORANGE),
    "overdose": ("*", RED),
}
OBSERVED_NAMES = {
    "sedated": gettext_lazy("Observation: sedated"),
    "overdose": gettext_lazy("Observation: overdose"),
}
POSS_REDUCE = 3  # the protocol default; the line only guides the eye


def mg(value: float | None) -> str:
    """An amount the way the language writes it: 7,5 in bokmål, 7.5 in English."""
    return "–" if value is None else floatformat(value, -1)


@dataclass(frozen=True)
class Placed:
    """Where each session sits on the x axis: day n's sessions share the day's width."""

    history: DoseHistory

    @property
    def per_day(self) -> int:
        return max(1, len(self.history.slots))

    @property
    def width(self) -> float:
        return 0.8 / self.per_day

    def x(self, index: int) -> float:
        day, slot = divmod(index, self.per_day)
        return day + (slot + 0.5) / self.per_day


def svg(history: DoseHistory, group: str) -> str:
    """The chart of one medication group as SVG text, with a <title> and a <desc>."""
    with matplotlib.rc_context(STYLE):
        figure = _figure(history, group)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue().decode()
    return _label(text, title(history, group), summary(history, group))


def data_uri(history: DoseHistory, group: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg(history, group).encode()).decode()


def title(history: DoseHistory, group: str) -> str:
    return _("%(medication)s: prescribed and given, %(start)s–%(end)s") % {
        "medication": GROUP_NAMES.get(group, group),
        "start": history.start.strftime("%d.%m."),
        "end": history.end.strftime("%d.%m.%Y"),
    }


def summary(history: DoseHistory, group: str) -> str:
    """The chart in one paragraph: the alt text of the image and its <desc>."""
    sessions = history.of(group)
    counts = history.counts(group)
    prescribed = [s.prescribed_mg for s in sessions if s.prescribed_mg]
    given = [s.given_mg for s in sessions if s.status in TAKEN]
    sedated = sum(1 for s in sessions if s.outcome in OBSERVED)
    high_poss = sum(1 for s in sessions if (s.sedation or 0) >= POSS_REDUCE)
    return _(
        "Last %(days)s days. Prescribed per session: %(prescribed)s mg. "
        "Doses given: %(given)s (%(partial)s of them partly), mean %(mean)s mg. "
        "Missed: %(missed)s. Withheld: %(withheld)s. Refused: %(refused)s. "
        "Sedation POSS 3 or more before a dose: %(poss)s. "
        "Observations with sedation or overdose: %(observed)s."
    ) % {
        "days": len(history.days),
        "prescribed": _span(prescribed),
        "given": len(given),
        "partial": counts.get("partial", 0),
        "mean": mg(round(sum(given) / len(given), 1)) if given else "–",
        "missed": counts.get("missed", 0),
        "withheld": counts.get("withheld", 0),
        "refused": counts.get("refused", 0),
        "poss": high_poss,
        "observed": sedated,
    }


def _span(amounts: list[float]) -> str:
    """180, or 200–250 when the prescription changed, or – when there was none."""
    if not amounts:
        return "–"
    low, high = min(amounts), max(amounts)
    return mg(low) if low == high else f"{mg(low)}–{mg(high)}"


def _label(text: str, heading: str, description: str) -> str:
    """The root element named for assistive technology: role img, a <title>, a <desc>."""
    text = text[text.index("<svg") :]  # no XML declaration or DOCTYPE: it can go inline
    opening = re.match(r"<svg\b[^>]*>", text)
    assert opening is not None
    head = opening.group(0)[:-1] + ' role="img" aria-labelledby="dose-chart-title dose-chart-desc">'
    return (
        head
        + f'<title id="dose-chart-title">{escape(heading)}</title>'
        + f'<desc id="dose-chart-desc">{escape(description)}</desc>'
        + text[opening.end() :]
    )


def _figure(history: DoseHistory, group: str) -> Figure:
    sessions = history.of(group)
    placed = Placed(history)
    figure = Figure(figsize=(10, 5.2), layout="constrained")
    doses, poss = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
    doses.set_title(str(GROUP_NAMES.get(group, group)), loc="left")
    top = max([s.prescribed_mg or 0 for s in sessions] + [s.given_mg for s in sessions] + [10.0])
    ceiling = _nice(top * 1.25)
    _prescribed(doses, sessions, placed)
    _given(doses, sessions, placed)
    _not_given(doses, sessions, placed, ceiling)
    _observed(doses, sessions, placed, ceiling)
    doses.set_ylim(0, ceiling)
    doses.set_ylabel(_("mg per session"))
    doses.yaxis.set_major_formatter(lambda value, _pos: mg(value))
    doses.grid(axis="y", color="#dddddd", linewidth=0.8)
    doses.set_axisbelow(True)
    _sedation(poss, sessions, placed)
    _days(poss, history)
    figure.legend(
        handles=_legend(sessions),
        loc="outside lower center",
        ncols=4,
        frameon=False,
    )
    return figure


def _nice(value: float) -> float:
    """A round top for the mg axis (400 for a highest dose of 250 and room above it)."""
    power = 10 ** math.floor(math.log10(value))
    steps = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
    return next(step * power for step in steps if step * power >= value)


def _prescribed(axes, sessions: list[Session], placed: Placed) -> None:
    """The prescription as a step line, each session's level across its width; broken
    where nothing was prescribed."""
    xs: list[float] = []
    ys: list[float] = []
    half = 0.5 / placed.per_day
    for index, session in enumerate(sessions):
        centre = placed.x(index)
        level = session.prescribed_mg if session.prescribed_mg else math.nan
        xs += [centre - half, centre + half]
        ys += [level, level]
    # Above the bars: a dose given as prescribed meets the line, it does not hide it.
    axes.plot(xs, ys, color=DARK, linewidth=2, gid="prescribed", label=_("Prescribed"), zorder=3)


def _given(axes, sessions: list[Session], placed: Placed) -> None:
    for status, hatch, colour in (("given", None, BLUE), ("partial", "///", LIGHT)):
        chosen = [(i, s) for i, s in enumerate(sessions) if s.status == status and s.given_mg]
        if chosen:
            bars = axes.bar(
                [placed.x(i) for i, _s in chosen],
                [s.given_mg for _i, s in chosen],
                width=placed.width,
                color=colour,
                edgecolor=BLUE,
                linewidth=0.6,
                hatch=hatch,
            )
            for (index, _s), bar in zip(chosen, bars, strict=True):
                bar.set_gid(f"given-{status}-{index}")


def _not_given(axes, sessions: list[Session], placed: Placed, ceiling: float) -> None:
    """A session without a dose: its own shape at the foot of the axis."""
    for status, (shape, colour) in NOT_GIVEN.items():
        chosen = [i for i, s in enumerate(sessions) if s.status == status]
        for index in chosen:
            axes.plot(
                [placed.x(index)],
                [ceiling * 0.04],
                linestyle="none",
                marker=shape,
                markersize=8,
                markeredgewidth=2,
                color=colour,
                gid=f"mark-{status}-{index}",
                clip_on=False,
            )


def _observed(axes, sessions: list[Session], placed: Placed, ceiling: float) -> None:
    """Observation that found sedation or an overdose: a mark above the session's bar."""
    for outcome, (shape, colour) in OBSERVED.items():
        for index, session in enumerate(sessions):
            if session.outcome == outcome:
                y = min(ceiling * 0.96, max(session.given_mg, session.prescribed_mg or 0))
                axes.plot(
                    [placed.x(index)],
                    [y + ceiling * 0.04],
                    linestyle="none",
                    marker=shape,
                    markersize=11 if shape == "*" else 8,
                    color=colour,
                    markeredgecolor=DARK,
                    gid=f"mark-{outcome}-{index}",
                    clip_on=False,
                )


def _sedation(axes, sessions: list[Session], placed: Placed) -> None:
    chosen = [(i, s.sedation) for i, s in enumerate(sessions) if s.sedation is not None]
    axes.axhline(POSS_REDUCE - 0.5, color=ORANGE, linewidth=0.8, linestyle="--")
    for index, level in chosen:
        axes.plot(
            [placed.x(index)],
            [level],
            linestyle="none",
            marker="o",
            markersize=5,
            color=RED if level >= POSS_REDUCE else BLUE,
            gid=f"mark-poss-{index}",
        )
    axes.set_ylim(0.5, 4.5)
    axes.set_yticks([1, 2, 3, 4])
    axes.set_ylabel(_("POSS"))
    axes.grid(axis="y", color="#eeeeee", linewidth=0.8)


def _days(axes, history: DoseHistory) -> None:
    """A tick a day; a date every seventh day, counted back from the last."""
    days = history.days
    axes.set_xlim(0, len(days))
    axes.set_xticks([n + 0.5 for n in range(len(days))], minor=True)
    labelled = [n for n in range(len(days)) if (len(days) - 1 - n) % 7 == 0]
    axes.set_xticks([n + 0.5 for n in labelled], [days[n].strftime("%d.%m.") for n in labelled])
    axes.tick_params(axis="x", which="minor", length=3)


def _legend(sessions: list[Session]) -> list:
    handles: list = [
        Line2D([], [], color=DARK, linewidth=2, label=_("Prescribed")),
        Patch(facecolor=BLUE, edgecolor=BLUE, label=_("Given")),
        Patch(facecolor=LIGHT, edgecolor=BLUE, hatch="///", label=_("Partly given")),
    ]
    for status, (shape, colour) in NOT_GIVEN.items():
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=shape,
                markersize=8,
                markeredgewidth=2,
                color=colour,
                label=str(STATUS_NAMES[status]),
            )
        )
    for outcome, (shape, colour) in OBSERVED.items():
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=shape,
                markersize=11 if shape == "*" else 8,
                color=colour,
                markeredgecolor=DARK,
                label=str(OBSERVED_NAMES[outcome]),
            )
        )
    return handles


# --- the same in words --------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    prescribed: str
    given: str
    status: str
    state: str  # the status code, for the row's style
    poss: str
    outcome: str


@dataclass(frozen=True)
class Row:
    day: str
    iso: str
    cells: list[Cell]


def table(history: DoseHistory, group: str) -> list[Row]:
    """The chart as a table: a row a day, newest first, a cell a session."""
    sessions = history.of(group)
    per_day = max(1, len(history.slots))
    rows = []
    for number, day in enumerate(history.days):
        cells = [_cell(s) for s in sessions[number * per_day : (number + 1) * per_day]]
        rows.append(Row(day.strftime("%d.%m.%Y"), day.isoformat(), cells))
    rows.reverse()
    return rows


def _cell(session: Session) -> Cell:
    state = session.state
    status = str(STATUS_NAMES.get(state, state))
    notes = []
    if session.top_up_mg:
        notes.append(_("top-up %(mg)s mg") % {"mg": mg(session.top_up_mg)})
    if session.corrected:
        notes.append(_("corrected"))
    if notes:
        status = f"{status} ({', '.join(notes)})"
    outcome = str(OUTCOME_NAMES.get(session.outcome, "")) if session.outcome else ""
    if session.naloxone_mg:
        outcome += ", " + _("naloxone %(mg)s mg") % {"mg": mg(session.naloxone_mg)}
    return Cell(
        prescribed=mg(session.prescribed_mg) if session.prescribed_mg else "–",
        given=mg(session.given_mg) if session.status in TAKEN else "–",
        status=status if state != "none" else "–",
        state=state,
        poss=str(session.sedation) if session.sedation is not None else "–",
        outcome=outcome or "–",
    )
